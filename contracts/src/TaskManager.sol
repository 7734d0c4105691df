// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager, IServiceManager, IRegistrar} from "./Interfaces.sol";

/// Inference tasks and their settlement (after incredible-squaring's TaskManager): a consumer pays
/// for a task; an operator settles it with a Groth16 proof (proven path) or a stake quorum attests
/// a result that anyone may challenge with a proof during a window (optimistic path). Only hashes
/// live in storage; tasks travel in calldata and events.
contract TaskManager {
    /// BN254 scalar field: public signals and bindings are elements of it.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    struct Task {
        bytes32 modelId;
        uint256 inputCommitment;
        address consumer;
        uint96 fee;
        uint64 createdBlock;
        uint64 deadline;
    }

    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    enum Status {
        None,
        Open,
        Proven,
        Attested,
        Finalized,
        Overturned,
        Refunded
    }

    /// taskHash = keccak256(abi.encode(task)); the attestation fields are only set on that path.
    struct Record {
        bytes32 taskHash;
        Status status;
        uint64 windowEnd;
        bytes32 resultHash;
        bytes32 signersHash;
    }

    IServiceManager public immutable serviceManager;
    IAllocationManager public immutable allocationManager;
    IRegistrar public immutable registrar;
    uint64 public immutable challengeWindow;
    uint16 public immutable quorumBps;
    uint256 public immutable slashWad;
    uint256 public immutable challengeBond;
    uint32 public taskCount;
    mapping(uint32 => Record) public records;
    /// Reentrancy lock in transient storage (EIP-1153): 100 gas instead of two cold SSTOREs.
    bool private transient _locked;

    event TaskCreated(uint32 indexed taskId, Task task);
    /// The proof and public signals stay in this transaction's calldata (auditors read them there).
    event TaskProven(uint32 indexed taskId, address indexed operator, bytes32 resultHash);
    event TaskAttested(uint32 indexed taskId, bytes32 resultHash, address[] signers, uint64 windowEnd);
    event ChallengeSucceeded(uint32 indexed taskId, address indexed challenger, bytes32 provenResultHash, uint256 slashed, Proof proof, uint256[] publicSignals);
    event ChallengeFailed(uint32 indexed taskId, address indexed challenger, uint256 bondLost);
    event TaskFinalized(uint32 indexed taskId, bytes32 resultHash);
    event TaskRefunded(uint32 indexed taskId, address consumer, uint256 fee);

    error UnknownModel(bytes32 modelId);
    error InvalidCommitment();
    error InvalidDeadline();
    error TaskMismatch(uint32 taskId);
    error TaskNotOpen(uint32 taskId, Status status);
    error TaskExpired(uint32 taskId);
    error TaskNotExpired(uint32 taskId);
    error NotOperator(address who);
    error WrongPublicSignalCount(uint256 expected, uint256 got);
    error InputCommitmentMismatch();
    error BindingMismatch(uint256 expected);
    error InvalidProof();
    error SignersNotSorted();
    error BadSignature(address signer);
    error QuorumNotMet(uint256 signedStake, uint256 totalStake);
    error NotAttested(uint32 taskId);
    error ChallengeWindowClosed(uint32 taskId);
    error ChallengeWindowOpen(uint32 taskId);
    error SignersMismatch();
    error WrongBond(uint256 required);
    error Reentrancy();

    modifier nonReentrant() {
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }

    constructor(
        IServiceManager serviceManager_,
        IAllocationManager allocationManager_,
        IRegistrar registrar_,
        uint64 challengeWindow_,
        uint16 quorumBps_,
        uint256 slashWad_,
        uint256 challengeBond_
    ) {
        serviceManager = serviceManager_;
        allocationManager = allocationManager_;
        registrar = registrar_;
        challengeWindow = challengeWindow_;
        quorumBps = quorumBps_;
        slashWad = slashWad_;
        challengeBond = challengeBond_;
    }

    function createTask(bytes32 modelId, uint256 inputCommitment, uint64 deadline) external payable returns (uint32 taskId) {
        (address verifier,,,) = serviceManager.modelOf(modelId);
        if (verifier == address(0)) revert UnknownModel(modelId);
        if (inputCommitment >= R) revert InvalidCommitment();
        if (deadline <= block.number) revert InvalidDeadline();
        Task memory task = Task(modelId, inputCommitment, msg.sender, uint96(msg.value), uint64(block.number), deadline);
        taskId = taskCount++;
        records[taskId].taskHash = keccak256(abi.encode(task));
        records[taskId].status = Status.Open;
        emit TaskCreated(taskId, task);
    }

    /// The binding a proof for `taskId` by `prover` must carry: a proof cannot be replayed on another
    /// task, nor submitted by anyone but the operator who made it.
    function bindingOf(uint32 taskId, address prover) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), taskId, prover))) % R;
    }

    /// keccak of the output signals (all public signals but inputHash and binding).
    function resultHashOf(uint256[] calldata publicSignals) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(publicSignals[:publicSignals.length - 2]));
    }

    function submitProven(uint32 taskId, Task calldata task, Proof calldata proof, uint256[] calldata publicSignals) external nonReentrant {
        Record storage r = _open(taskId, task);
        if (block.number > task.deadline) revert TaskExpired(taskId);
        if (!registrar.isOperator(msg.sender)) revert NotOperator(msg.sender);
        _checkProof(taskId, task, proof, publicSignals);
        r.status = Status.Proven;
        emit TaskProven(taskId, msg.sender, resultHashOf(publicSignals));
        serviceManager.accrue{value: task.fee}(msg.sender);
    }

    /// Signers (ascending addresses) sign keccak256(abi.encode(this, taskId, resultHash)) as an
    /// Ethereum signed message; their stake at the task's creation block must reach the quorum.
    function attest(uint32 taskId, Task calldata task, bytes32 resultHash, address[] calldata signers, bytes[] calldata signatures)
        external
    {
        Record storage r = _open(taskId, task);
        if (block.number > task.deadline) revert TaskExpired(taskId);
        bytes32 digest = keccak256(
            abi.encodePacked("\x19Ethereum Signed Message:\n32", keccak256(abi.encode(address(this), taskId, resultHash)))
        );
        uint256 signed;
        address previous;
        for (uint256 i = 0; i < signers.length; i++) {
            address s = signers[i];
            if (s <= previous) revert SignersNotSorted();
            previous = s;
            if (!registrar.isOperator(s)) revert NotOperator(s);
            if (_recover(digest, signatures[i]) != s) revert BadSignature(s);
            signed += allocationManager.stakeAt(s, task.createdBlock);
        }
        uint256 total = allocationManager.totalStakeAt(task.createdBlock);
        if (total == 0 || signed * 10_000 < total * quorumBps) revert QuorumNotMet(signed, total);
        uint64 windowEnd = uint64(block.number) + challengeWindow;
        r.status = Status.Attested;
        r.windowEnd = windowEnd;
        r.resultHash = resultHash;
        r.signersHash = keccak256(abi.encode(signers));
        emit TaskAttested(taskId, resultHash, signers, windowEnd);
    }

    /// A proof of a different result overturns the attestation: every signer is slashed, the
    /// challenger gets its bond, the fee and the slashed stake. A proof of the same result loses the bond.
    function challenge(uint32 taskId, Task calldata task, address[] calldata signers, Proof calldata proof, uint256[] calldata publicSignals)
        external
        payable
        nonReentrant
    {
        Record storage r = records[taskId];
        if (r.taskHash != keccak256(abi.encode(task))) revert TaskMismatch(taskId);
        if (r.status != Status.Attested) revert NotAttested(taskId);
        if (block.number > r.windowEnd) revert ChallengeWindowClosed(taskId);
        if (msg.value != challengeBond) revert WrongBond(challengeBond);
        if (keccak256(abi.encode(signers)) != r.signersHash) revert SignersMismatch();
        _checkProof(taskId, task, proof, publicSignals);
        bytes32 proven = resultHashOf(publicSignals);
        if (proven == r.resultHash) {
            emit ChallengeFailed(taskId, msg.sender, msg.value);
            serviceManager.accrue{value: msg.value}(serviceManagerOwner());
            return;
        }
        r.status = Status.Overturned;
        r.resultHash = proven;
        uint256 slashed;
        address[] memory strategies = new address[](1);
        uint256[] memory wads = new uint256[](1);
        wads[0] = slashWad;
        for (uint256 i = 0; i < signers.length; i++) {
            slashed += allocationManager.slashOperator(
                address(serviceManager),
                IAllocationManager.SlashingParams(signers[i], 0, strategies, wads, "attested a result a proof contradicts")
            );
        }
        emit ChallengeSucceeded(taskId, msg.sender, proven, slashed, proof, publicSignals);
        serviceManager.accrue{value: msg.value + task.fee}(msg.sender);
        if (slashed > 0) serviceManager.payToken(msg.sender, slashed);
    }

    /// After the window, the attested result stands and its signers share the fee by stake.
    function finalize(uint32 taskId, Task calldata task, address[] calldata signers) external nonReentrant {
        Record storage r = records[taskId];
        if (r.taskHash != keccak256(abi.encode(task))) revert TaskMismatch(taskId);
        if (r.status != Status.Attested) revert NotAttested(taskId);
        if (block.number <= r.windowEnd) revert ChallengeWindowOpen(taskId);
        if (keccak256(abi.encode(signers)) != r.signersHash) revert SignersMismatch();
        r.status = Status.Finalized;
        emit TaskFinalized(taskId, r.resultHash);
        uint256 total;
        uint256[] memory stakes = new uint256[](signers.length);
        for (uint256 i = 0; i < signers.length; i++) {
            stakes[i] = allocationManager.stakeAt(signers[i], task.createdBlock);
            total += stakes[i];
        }
        uint256 paid;
        for (uint256 i = 1; i < signers.length; i++) {
            uint256 share = (uint256(task.fee) * stakes[i]) / total;
            paid += share;
            serviceManager.accrue{value: share}(signers[i]);
        }
        serviceManager.accrue{value: task.fee - paid}(signers[0]);
    }

    /// After the deadline with no result, the fee goes back to the consumer (claimable).
    function refund(uint32 taskId, Task calldata task) external nonReentrant {
        Record storage r = _open(taskId, task);
        if (block.number <= task.deadline) revert TaskNotExpired(taskId);
        r.status = Status.Refunded;
        emit TaskRefunded(taskId, task.consumer, task.fee);
        serviceManager.accrue{value: task.fee}(task.consumer);
    }

    function serviceManagerOwner() public view returns (address) {
        return OwnerView(address(serviceManager)).owner();
    }

    function _open(uint32 taskId, Task calldata task) private view returns (Record storage r) {
        r = records[taskId];
        if (r.taskHash != keccak256(abi.encode(task)) || r.taskHash == bytes32(0)) revert TaskMismatch(taskId);
        if (r.status != Status.Open) revert TaskNotOpen(taskId, r.status);
    }

    /// Public signals: [outputs…, inputHash, binding]; the proof is checked by the model's verifier.
    function _checkProof(uint32 taskId, Task calldata task, Proof calldata proof, uint256[] calldata pub) private view {
        (address verifier, uint8 numPublic, bytes4 selector) = serviceManager.verifierOf(task.modelId);
        if (pub.length != numPublic) revert WrongPublicSignalCount(numPublic, pub.length);
        if (pub[numPublic - 2] != task.inputCommitment) revert InputCommitmentMismatch();
        uint256 binding = bindingOf(taskId, msg.sender);
        if (pub[numPublic - 1] != binding) revert BindingMismatch(binding);
        (bool ok, bytes memory ret) =
            verifier.staticcall(abi.encodePacked(selector, abi.encode(proof.a, proof.b, proof.c), abi.encodePacked(pub)));
        if (!ok || ret.length != 32 || abi.decode(ret, (uint256)) != 1) revert InvalidProof();
    }

    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := calldataload(sig.offset)
            s := calldataload(add(sig.offset, 32))
            v := byte(0, calldataload(add(sig.offset, 64)))
        }
        // reject malleable signatures (upper-half s), as OpenZeppelin's ECDSA does
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) return address(0);
        return ecrecover(digest, v, r, s);
    }
}

interface OwnerView {
    function owner() external view returns (address);
}
