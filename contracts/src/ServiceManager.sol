// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "./Interfaces.sol";
import {ReentrancyGuard} from "./ReentrancyGuard.sol";

interface IAllocationManagerConfig {
    function configureAVS(address registrar, address slasher) external;
}

/// The AVS: registry of models (modelId → verifier, vkHash, public signal count) and pull-based
/// rewards. Fees and refunds are credited here by the task manager and claimed by their owners.
contract ServiceManager is ReentrancyGuard {
    /// verifier, numPublic and selector share one slot: settlement reads a single word.
    struct Model {
        address verifier;
        uint8 numPublic;
        bytes4 selector;
        bytes32 vkHash;
    }

    address public immutable owner;
    IERC20 public immutable token;
    address public registrar;
    address public taskManager;
    mapping(bytes32 => Model) private _models;
    mapping(address => uint256) private _balance;

    event ModelRegistered(bytes32 indexed modelId, address verifier, bytes32 vkHash, uint8 numPublic);
    event Accrued(address indexed beneficiary, uint256 amount);
    event Claimed(address indexed beneficiary, uint256 amount);

    error NotOwner();
    error NotTaskManager();
    error AlreadyWired();
    error ModelExists();
    error BadModel();
    error NothingToClaim();
    error TransferFailed();

    constructor(IERC20 token_) {
        owner = msg.sender;
        token = token_;
    }

    /// One-time wiring: tells the allocation manager who registers and who slashes for this AVS.
    function wire(address allocationManager, address registrar_, address taskManager_) external {
        if (msg.sender != owner) revert NotOwner();
        if (taskManager != address(0)) revert AlreadyWired();
        registrar = registrar_;
        taskManager = taskManager_;
        IAllocationManagerConfig(allocationManager).configureAVS(registrar_, taskManager_);
    }

    /// numPublic sizes the verifier's uint[N] argument, so its selector is derived here once.
    function registerModel(bytes32 modelId, address verifier, bytes32 vkHash, uint8 numPublic) external {
        if (msg.sender != owner) revert NotOwner();
        if (_models[modelId].verifier != address(0)) revert ModelExists();
        if (verifier == address(0) || numPublic < 2) revert BadModel();
        bytes4 selector = bytes4(
            keccak256(abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", _itoa(numPublic), "])"))
        );
        _models[modelId] = Model(verifier, numPublic, selector, vkHash);
        emit ModelRegistered(modelId, verifier, vkHash, numPublic);
    }

    function modelOf(bytes32 modelId) external view returns (address, bytes32, uint8, bytes4) {
        Model memory m = _models[modelId];
        return (m.verifier, m.vkHash, m.numPublic, m.selector);
    }

    function verifierOf(bytes32 modelId) external view returns (address, uint8, bytes4) {
        Model storage m = _models[modelId];
        return (m.verifier, m.numPublic, m.selector);
    }

    /// Balances are kept at 1 wei minimum (a "dust" slot): crediting a non-zero slot costs 5k gas
    /// instead of 20k. `claimable` reports the real amount.
    function accrue(address beneficiary) external payable {
        if (msg.sender != taskManager) revert NotTaskManager();
        uint256 held = _balance[beneficiary];
        _balance[beneficiary] = (held == 0 ? 1 : held) + msg.value;
        emit Accrued(beneficiary, msg.value);
    }

    /// Pre-warms a beneficiary's slot (called for operators at registration, by anyone).
    function touch(address beneficiary) external {
        if (_balance[beneficiary] == 0) _balance[beneficiary] = 1;
    }

    function claimable(address who) public view returns (uint256) {
        uint256 held = _balance[who];
        return held == 0 ? 0 : held - 1;
    }

    /// Pays out slashed stake tokens (held here) on the task manager's instruction.
    function payToken(address to, uint256 amount) external {
        if (msg.sender != taskManager) revert NotTaskManager();
        if (!token.transfer(to, amount)) revert TransferFailed();
    }

    function claim() external nonReentrant {
        uint256 amount = claimable(msg.sender);
        if (amount == 0) revert NothingToClaim();
        _balance[msg.sender] = 1;
        emit Claimed(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    function _itoa(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory b;
        while (v > 0) {
            b = abi.encodePacked(bytes1(uint8(48 + (v % 10))), b);
            v /= 10;
        }
        return string(b);
    }
}
