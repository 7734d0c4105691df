// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAVSRegistrar} from "./Interfaces.sol";

/// The AVS's registrar: the allocation manager calls it when an operator joins or leaves.
contract Registrar is IAVSRegistrar {
    address public immutable allocationManager;
    address public immutable avs;
    mapping(address => bool) public isOperator;
    uint256 public operatorCount;

    event OperatorRegistered(address indexed operator);
    event OperatorDeregistered(address indexed operator);

    error OnlyAllocationManager();
    error WrongAVS();

    constructor(address allocationManager_, address avs_) {
        allocationManager = allocationManager_;
        avs = avs_;
    }

    function registerOperator(address operator, address avs_, uint32[] calldata, bytes calldata) external {
        if (msg.sender != allocationManager) revert OnlyAllocationManager();
        if (avs_ != avs) revert WrongAVS();
        if (!isOperator[operator]) {
            isOperator[operator] = true;
            operatorCount++;
        }
        emit OperatorRegistered(operator);
    }

    function deregisterOperator(address operator, address avs_, uint32[] calldata) external {
        if (msg.sender != allocationManager) revert OnlyAllocationManager();
        if (avs_ != avs) revert WrongAVS();
        if (isOperator[operator]) {
            isOperator[operator] = false;
            operatorCount--;
        }
        emit OperatorDeregistered(operator);
    }

    function supportsAVS(address avs_) external view returns (bool) {
        return avs_ == avs;
    }
}
