// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "./EigenInterfaces.sol";

interface IERC20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

/// The service manager as the task manager sees it.
interface IServiceManager {
    function modelOf(bytes32 modelId) external view returns (address key, bytes32 vkHash, uint8 numPublic);
    function verifierOf(bytes32 modelId) external view returns (address key, uint8 numPublic);
    function slicesOf(bytes32 modelId) external view returns (bytes32[] memory);
    function accrue(address beneficiary) external payable;
    function fundBounty() external payable;
    function payBounty(address to, uint256 amount) external returns (uint256 paid);
    function slashOperator(IAllocationManager.SlashingParams calldata params) external returns (uint256 slashId, uint256[] memory shares);
}
