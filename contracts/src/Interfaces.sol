// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

interface IERC20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

/// EigenLayer's AVS registrar callbacks (IAVSRegistrar).
interface IAVSRegistrar {
    function registerOperator(address operator, address avs, uint32[] calldata operatorSetIds, bytes calldata data) external;
    function deregisterOperator(address operator, address avs, uint32[] calldata operatorSetIds) external;
    function supportsAVS(address avs) external view returns (bool);
}

struct OperatorSet {
    address avs;
    uint32 id;
}

/// EigenLayer's AllocationManager shapes, as far as this AVS uses them.
interface IAllocationManager {
    struct RegisterParams {
        address avs;
        uint32[] operatorSetIds;
        bytes data;
    }

    struct SlashingParams {
        address operator;
        uint32 operatorSetId;
        address[] strategies;
        uint256[] wadsToSlash;
        string description;
    }

    event OperatorSlashed(address operator, OperatorSet operatorSet, address[] strategies, uint256[] wadSlashed, string description);

    function slashOperator(address avs, SlashingParams calldata params) external returns (uint256 slashed);
    function stakeAt(address operator, uint256 blockNumber) external view returns (uint256);
    function stakeOf(address operator) external view returns (uint256);
    function memberStake(address avs) external view returns (uint256);
    function isSlashable(address avs, address operator) external view returns (bool);
    function unbondingDelay() external view returns (uint64);
}

interface IServiceManager {
    function modelOf(bytes32 modelId) external view returns (address verifier, bytes32 vkHash, uint8 numPublic, bytes4 selector);
    function verifierOf(bytes32 modelId) external view returns (address verifier, uint8 numPublic, bytes4 selector);
    function accrue(address beneficiary) external payable;
    function payToken(address to, uint256 amount) external;
    function registrar() external view returns (address);
}

interface IRegistrar {
    function isOperator(address operator) external view returns (bool);
}
