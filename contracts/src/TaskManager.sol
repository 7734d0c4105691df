// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager, IServiceManager, IRegistrar} from "./Interfaces.sol";
import {ReentrancyGuard} from "./ReentrancyGuard.sol";

/// Inference tasks and their settlement (after incredible-squaring's TaskManager): a consumer pays
/// for a task; an operator settles it with a Groth16 proof (proven path) or a stake quorum attests
/// a result that anyone may challenge with a proof during a window (optimistic path). Only hashes
/// live in storage; tasks travel in calldata and events.
contract TaskManager is ReentrancyGuard {
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

    /// taskHash = keccak256(abi.encode(task)); status, windowEnd and batchId share one word.
    struct Record {
        bytes32 taskHash;
        Status status;
        uint64 windowEnd;
        uint32 batchId;
    }

    IServiceManager public immutable serviceManager;
    IAllocationManager public immutable allocationManager;
    IRegistrar public immutable registrar;
    uint64 public immutable challengeWindow;
    uint16 public immutable quorumBps;
    uint256 public immutable slashWad;
    uint256 public immutable challengeBond;
    /// Stake each signer must have when it attests: zero-stake signers would only pad the list.
    uint256 public immutable minSignerStake;
    /// Share of a slash paid to the challenger (basis points); the rest is burned, so that a signer
    /// who challenges its own batch first still loses most of what is slashed.
    uint16 public immutable challengerRewardBps;
    /// Signers per attestation: bounds the gas of a challenge that slashes them all.
    uint256 public constant MAX_SIGNERS = 32;
    /// Slashed tokens that are not the challenger's reward go here (no key exists for it).
    address public constant BURN = 0x000000000000000000000000000000000000dEaD;
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(uint32[] taskIds,bytes32[] taskHashes,bytes32[] resultHashes)");
    uint32 public taskCount;
    mapping(uint32 => Record) public records;
    /// Attestation batches: keccak256(abi.encode(taskIds, resultHashes, signers)). Batch ids start at 1.
    mapping(uint32 => bytes32) public batches;
    uint32 public batchCount;

    event TaskCreated(uint32 indexed taskId, Task task);
    /// The proof and public signals are logged: auditors read them from the event, whatever called
    /// (an operator's contract wallet wraps the calldata).
    event TaskProven(uint32 indexed taskId, address indexed operator, bytes32 resultHash, Proof proof, uint256[] publicSignals);
    event BatchAttested(uint32 indexed batchId, uint32[] taskIds, bytes32[] resultHashes, address[] signers, uint64 windowEnd);
    event ChallengeSucceeded(uint32 indexed taskId, address indexed challenger, bytes32 provenResultHash, uint256 slashed, Proof proof, uint256[] publicSignals);
    /// Of `slashed`: `reward` to the challenger, `burned` to BURN; the fee went back to the consumer.
    event SlashDistributed(uint32 indexed taskId, uint256 reward, uint256 burned, uint256 feeRefunded);
    /// A signer that could no longer be slashed (it left more than the unbonding delay ago).
    event SignerNotSlashable(uint32 indexed taskId, address signer);
    event ChallengeFailed(uint32 indexed taskId, address indexed challenger, uint256 bondLost);
    event BatchFinalized(uint32 indexed batchId, uint32 finalized, uint256 feesPaid);
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
    error BatchMismatch();
    error EmptyBatch();
    error WrongBond(uint256 required);
    error FeeTooLarge(uint256 fee);
    error TooManySigners(uint256 count, uint256 max);
    error SignerStakeTooLow(address signer, uint256 stake, uint256 required);
    error WindowNotCovered(uint64 challengeWindow, uint64 unbondingDelay);

    constructor(
        IServiceManager serviceManager_,
        IAllocationManager allocationManager_,
        IRegistrar registrar_,
        uint64 challengeWindow_,
        uint16 quorumBps_,
        uint256 slashWad_,
        uint256 challengeBond_,
        uint256 minSignerStake_,
        uint16 challengerRewardBps_
    ) {
        // a signer must stay slashable for the whole window, whatever it does after signing
        uint64 delay = allocationManager_.unbondingDelay();
        if (challengeWindow_ >= delay) revert WindowNotCovered(challengeWindow_, delay);
        serviceManager = serviceManager_;
        allocationManager = allocationManager_;
        registrar = registrar_;
        challengeWindow = challengeWindow_;
        quorumBps = quorumBps_;
        slashWad = slashWad_;
        challengeBond = challengeBond_;
        minSignerStake = minSignerStake_;
        challengerRewardBps = challengerRewardBps_;
    }

    function createTask(bytes32 modelId, uint256 inputCommitment, uint64 deadline) external payable returns (uint32 taskId) {
        (address verifier,,,) = serviceManager.modelOf(modelId);
        if (verifier == address(0)) revert UnknownModel(modelId);
        if (inputCommitment >= R) revert InvalidCommitment();
        if (deadline <= block.number) revert InvalidDeadline();
        if (msg.value > type(uint96).max) revert FeeTooLarge(msg.value);
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
        emit TaskProven(taskId, msg.sender, resultHashOf(publicSignals), proof, publicSignals);
        serviceManager.accrue{value: task.fee}(msg.sender);
    }

    /// EIP-712 domain of this contract on this chain: a signature is good here and nowhere else.
    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("zkinfer"), keccak256("1"), block.chainid, address(this)));
    }

    /// The EIP-712 digest signers sign: the tasks themselves (their hashes) and the results.
    function attestationDigest(uint32[] calldata taskIds, Task[] calldata tasks, bytes32[] calldata resultHashes)
        public
        view
        returns (bytes32)
    {
        bytes32[] memory taskHashes = new bytes32[](tasks.length);
        for (uint256 t = 0; t < tasks.length; t++) taskHashes[t] = keccak256(abi.encode(tasks[t]));
        bytes32 structHash = keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH,
                keccak256(abi.encodePacked(taskIds)),
                keccak256(abi.encodePacked(taskHashes)),
                keccak256(abi.encodePacked(resultHashes))
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// Attests results for a batch of tasks with one EIP-712 signature per signer (see
    /// attestationDigest). Signers are ascending registered operators, at most MAX_SIGNERS, each with
    /// at least minSignerStake; their current stake must reach the quorum of all registered stake.
    /// Current stake is what stays slashable: a withdrawal queued from now on unlocks only after
    /// unbondingDelay > challengeWindow blocks, and one queued before no longer counts.
    /// A batch of one is a single attestation; larger batches share the fixed costs.
    function attest(
        uint32[] calldata taskIds,
        Task[] calldata tasks,
        bytes32[] calldata resultHashes,
        address[] calldata signers,
        bytes[] calldata signatures
    ) external returns (uint32 batchId) {
        if (taskIds.length == 0 || taskIds.length != tasks.length || taskIds.length != resultHashes.length) revert EmptyBatch();
        if (signers.length > MAX_SIGNERS) revert TooManySigners(signers.length, MAX_SIGNERS);
        bytes32 digest = attestationDigest(taskIds, tasks, resultHashes);
        address previous;
        uint256 signed;
        for (uint256 i = 0; i < signers.length; i++) {
            address s = signers[i];
            if (s <= previous) revert SignersNotSorted();
            previous = s;
            if (!registrar.isOperator(s)) revert NotOperator(s);
            if (_recover(digest, signatures[i]) != s) revert BadSignature(s);
            uint256 stake = allocationManager.stakeOf(s);
            if (stake < minSignerStake || stake == 0) revert SignerStakeTooLow(s, stake, minSignerStake);
            signed += stake;
        }
        uint256 total = allocationManager.memberStake(address(serviceManager));
        if (total == 0 || signed * 10_000 < total * quorumBps) revert QuorumNotMet(signed, total);
        batchId = ++batchCount;
        uint64 windowEnd = uint64(block.number) + challengeWindow;
        for (uint256 t = 0; t < taskIds.length; t++) {
            Record storage r = _open(taskIds[t], tasks[t]);
            if (block.number > tasks[t].deadline) revert TaskExpired(taskIds[t]);
            r.status = Status.Attested;
            r.windowEnd = windowEnd;
            r.batchId = batchId;
        }
        batches[batchId] = keccak256(abi.encode(taskIds, resultHashes, signers));
        emit BatchAttested(batchId, taskIds, resultHashes, signers, windowEnd);
    }

    /// The public part of an attested batch, re-supplied in calldata and checked against its stored hash.
    struct Batch {
        uint32[] taskIds;
        bytes32[] resultHashes;
        address[] signers;
    }

    /// A proof of a different result for task `batch.taskIds[index]` overturns its attestation: every
    /// signer is slashed, the challenger gets its bond, the fee and the slashed stake. A proof of the
    /// same result loses the bond.
    function challenge(uint32 batchId, Batch calldata batch, uint256 index, Task calldata task, Proof calldata proof, uint256[] calldata publicSignals)
        external
        payable
        nonReentrant
    {
        if (batches[batchId] != keccak256(abi.encode(batch.taskIds, batch.resultHashes, batch.signers))) revert BatchMismatch();
        uint32 taskId = batch.taskIds[index];
        Record storage r = records[taskId];
        if (r.taskHash != keccak256(abi.encode(task))) revert TaskMismatch(taskId);
        if (r.status != Status.Attested || r.batchId != batchId) revert NotAttested(taskId);
        if (block.number > r.windowEnd) revert ChallengeWindowClosed(taskId);
        if (msg.value != challengeBond) revert WrongBond(challengeBond);
        _checkProof(taskId, task, proof, publicSignals);
        bytes32 proven = resultHashOf(publicSignals);
        if (proven == batch.resultHashes[index]) {
            emit ChallengeFailed(taskId, msg.sender, msg.value);
            serviceManager.accrue{value: msg.value}(serviceManagerOwner());
            return;
        }
        r.status = Status.Overturned;
        uint256 slashed = _slashAll(taskId, batch.signers);
        emit ChallengeSucceeded(taskId, msg.sender, proven, slashed, proof, publicSignals);
        // the consumer gets its fee back; the challenger its bond and a capped share of the slash
        uint256 reward = (slashed * challengerRewardBps) / 10_000;
        emit SlashDistributed(taskId, reward, slashed - reward, task.fee);
        serviceManager.accrue{value: msg.value}(msg.sender);
        if (task.fee > 0) serviceManager.accrue{value: task.fee}(task.consumer);
        if (reward > 0) serviceManager.payToken(msg.sender, reward);
        if (slashed > reward) serviceManager.payToken(BURN, slashed - reward);
    }

    /// Slashes every signer still slashable; one that is not (it left long ago) is skipped, never
    /// a reason for the whole challenge to fail.
    function _slashAll(uint32 taskId, address[] calldata signers) private returns (uint256 slashed) {
        address[] memory strategies = new address[](1);
        uint256[] memory wads = new uint256[](1);
        wads[0] = slashWad;
        address avs = address(serviceManager);
        for (uint256 i = 0; i < signers.length; i++) {
            if (!allocationManager.isSlashable(avs, signers[i])) {
                emit SignerNotSlashable(taskId, signers[i]);
                continue;
            }
            slashed += allocationManager.slashOperator(
                avs, IAllocationManager.SlashingParams(signers[i], 0, strategies, wads, "attested a result a proof contradicts")
            );
        }
    }

    /// After the window, the batch's unchallenged results stand: their fees go to the signers, pro rata
    /// to their stake at the attestation block (equally if none is left). Overturned tasks are skipped
    /// (their fee went back to the consumer).
    function finalize(uint32 batchId, uint32[] calldata taskIds, bytes32[] calldata resultHashes, address[] calldata signers, Task[] calldata tasks)
        external
        nonReentrant
    {
        if (batches[batchId] != keccak256(abi.encode(taskIds, resultHashes, signers))) revert BatchMismatch();
        uint256 fees;
        uint32 count;
        for (uint256 t = 0; t < taskIds.length; t++) {
            Record storage r = records[taskIds[t]];
            if (r.taskHash != keccak256(abi.encode(tasks[t]))) revert TaskMismatch(taskIds[t]);
            if (r.status == Status.Overturned) continue;
            if (r.status != Status.Attested || r.batchId != batchId) revert NotAttested(taskIds[t]);
            if (block.number <= r.windowEnd) revert ChallengeWindowOpen(taskIds[t]);
            r.status = Status.Finalized;
            fees += tasks[t].fee;
            count++;
        }
        emit BatchFinalized(batchId, count, fees);
        if (fees == 0) return;
        uint256 total;
        uint256[] memory stakes = new uint256[](signers.length);
        uint64 attestBlock = records[taskIds[0]].windowEnd - challengeWindow;
        for (uint256 i = 0; i < signers.length; i++) {
            stakes[i] = allocationManager.stakeAt(signers[i], attestBlock);
            total += stakes[i];
        }
        if (total == 0) {
            // every signer was slashed or left to zero: share equally rather than lock the fees
            for (uint256 i = 0; i < signers.length; i++) stakes[i] = 1;
            total = signers.length;
        }
        uint256 paid;
        for (uint256 i = 1; i < signers.length; i++) {
            uint256 share = (fees * stakes[i]) / total;
            paid += share;
            serviceManager.accrue{value: share}(signers[i]);
        }
        serviceManager.accrue{value: fees - paid}(signers[0]);
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
