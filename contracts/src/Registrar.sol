// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAVSRegistrar} from "./EigenInterfaces.sol";

/// The AVS's registrar: the allocation manager calls it when an operator joins or leaves. It caps
/// the operator count: the task manager sums the stake of every member when it checks a quorum.
contract Registrar is IAVSRegistrar {
    uint256 public constant MAX_OPERATORS = 64;
    address public immutable allocationManager;
    address public immutable avs;
    mapping(address => bool) public isOperator;
    uint256 public operatorCount;

    event OperatorRegistered(address indexed operator);
    event OperatorDeregistered(address indexed operator);

    error OnlyAllocationManager();
    error WrongAVS();
    error OperatorLimitReached(uint256 max);

    constructor(address allocationManager_, address avs_) {
        allocationManager = allocationManager_;
        avs = avs_;
    }

    function registerOperator(address operator, address avs_, uint32[] calldata, bytes calldata) external {
        if (msg.sender != allocationManager) revert OnlyAllocationManager();
        if (avs_ != avs) revert WrongAVS();
        if (!isOperator[operator]) {
            if (operatorCount >= MAX_OPERATORS) revert OperatorLimitReached(MAX_OPERATORS);
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
