// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "./Interfaces.sol";
import {IStrategy} from "./EigenInterfaces.sol";

/// Local mirror of an EigenLayer strategy: holds one token's deposits, one share per token unit
/// (no yield, so EigenLayer's exchange rate stays 1). Only the mirror delegation manager moves tokens out.
contract MirrorStrategy is IStrategy {
    IERC20 private immutable _token;
    address public immutable manager;

    error OnlyManager();
    error TransferFailed();

    constructor(IERC20 token_, address manager_) {
        _token = token_;
        manager = manager_;
    }

    function underlyingToken() external view returns (IERC20) {
        return _token;
    }

    function withdraw(address to, uint256 amount) external {
        if (msg.sender != manager) revert OnlyManager();
        if (!_token.transfer(to, amount)) revert TransferFailed();
    }
}
