// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// One reentrancy lock for the AVS contracts, in transient storage (EIP-1153): it is cleared at the
/// end of every transaction and costs 100 gas per access instead of two cold SSTOREs.
abstract contract ReentrancyGuard {
    bool private transient _locked;

    error Reentrancy();

    modifier nonReentrant() {
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }
}
