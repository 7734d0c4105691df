// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IServiceManager} from "./Interfaces.sol";
import {IAllocationManager, IStrategy, OperatorSet} from "./EigenInterfaces.sol";
import {Groth16Key} from "./Groth16Key.sol";
import {ReentrancyGuard} from "./ReentrancyGuard.sol";

/// Inference tasks and their settlement (after incredible-squaring's TaskManager): a consumer pays
/// for a task; an operator settles it with a Groth16 proof (proven path) or a stake quorum attests
/// a result that anyone may challenge with a proof during a window (optimistic path). Only hashes
/// live in storage; tasks travel in calldata and events. Stake, membership and slashing are
/// EigenLayer's: the AllocationManager's operator set `operatorSetId` of the service manager (the AVS).
/// A task of a sliced model settles by the proven path only (submitProvenSliced, a proof per slice
/// chained on chain): a challenge would have to carry the whole chain anyway, so an attested result
/// of one could not be overturned more cheaply than it is proven.
contract TaskManager is ReentrancyGuard {
    /// BN254 scalar field: public signals and bindings are elements of it.
    uint256 internal constant R = Groth16Key.R;

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

    /// taskHash = keccak256(abi.encode(task)); status, windowEnd, batchId and sliced share one word.
    struct Record {
        bytes32 taskHash;
        Status status;
        uint64 windowEnd;
        uint32 batchId;
        /// The task's model is sliced: it settles by submitProvenSliced only.
        bool sliced;
    }

    IServiceManager public immutable serviceManager;
    IAllocationManager public immutable allocationManager;
    uint32 public immutable operatorSetId;
    uint64 public immutable challengeWindow;
    uint16 public immutable quorumBps;
    uint256 public immutable slashWad;
    uint256 public immutable challengeBond;
    /// Stake each signer must have when it attests: zero-stake signers would only pad the list.
    uint256 public immutable minSignerStake;
    /// Wei paid to a successful challenger from the service manager's bounty reserve. Slashed
    /// shares are burned by EigenLayer (never paid out), so a signer who challenges its own batch
    /// first still loses all it is slashed and gains at most this.
    uint256 public immutable challengeBounty;
    /// Signers per attestation: bounds the gas of a challenge that slashes them all.
    uint256 public constant MAX_SIGNERS = 32;
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(uint32[] taskIds,bytes32[] taskHashes,bytes32[] resultHashes)");
    /// The operator set's strategies this AVS counts and slashes, ascending; their shares are
    /// summed as stake, so they must be of like value (one token's strategies).
    IStrategy[] private _strategies;
    uint32 public taskCount;
    mapping(uint32 => Record) public records;
    /// Attestation batches: keccak256(abi.encode(taskIds, resultHashes, signers, stakes)), stakes
    /// being each signer's minimum slashable stake at the window's close. Batch ids start at 1.
    mapping(uint32 => bytes32) public batches;
    uint32 public batchCount;
    /// Signers of a batch's digest its submitter left out, who joined during the window
    /// (joinAttestation), with their stake at the window's close: paid and slashed like the batch's
    /// own signers. Kept in storage, so a join cannot invalidate a challenge or finalize in flight.
    mapping(uint32 => address[]) private _joiners;
    mapping(uint32 => uint256[]) private _joinerStakes;

    event TaskCreated(uint32 indexed taskId, Task task);
    /// The proof and public signals are logged: auditors read them from the event, whatever called
    /// (an operator's contract wallet wraps the calldata).
    event TaskProven(uint32 indexed taskId, address indexed operator, bytes32 resultHash, Proof proof, uint256[] publicSignals);
    /// A sliced model's task, proven by a chain of slice proofs (in slice order); resultHash is over
    /// the last slice's outputs.
    event SlicedTaskProven(
        uint32 indexed taskId, address indexed operator, bytes32 resultHash, Proof[] proofs, uint256[][] publicSignals
    );
    event BatchAttested(
        uint32 indexed batchId, uint32[] taskIds, bytes32[] resultHashes, address[] signers, uint256[] stakes, uint64 windowEnd
    );
    /// `sharesSlashed`: the signers' shares EigenLayer slashed (and burns), summed over strategies.
    event ChallengeSucceeded(
        uint32 indexed taskId, address indexed challenger, bytes32 provenResultHash, uint256 sharesSlashed, Proof proof, uint256[] publicSignals
    );
    /// The challenger's bounty (from the reserve) and the fee returned to the consumer.
    event ChallengeRewarded(uint32 indexed taskId, address indexed challenger, uint256 bounty, uint256 feeRefunded);
    /// A signer the AllocationManager could not slash (it left more than DEALLOCATION_DELAY ago, or
    /// the core refused): skipped, never a reason for the challenge to fail.
    event SignerNotSlashable(uint32 indexed taskId, address signer);
    event AttestationJoined(uint32 indexed batchId, address signer, uint256 stake);
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
    /// The task's model is sliced (settle with submitProvenSliced), or is not (settle with submitProven).
    error SlicedModel(bytes32 modelId);
    error NotSlicedModel(bytes32 modelId);
    error WrongSliceCount(uint256 expected, uint256 got);
    /// Slice `index` does not start from the tensor slice `index - 1` hashed out.
    error ChainBroken(uint256 index);
    error InvalidSliceProof(uint256 index);
    /// A sliced model's task cannot be attested: it is settled by proof only.
    error ProvenOnly(uint32 taskId);
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
    error AlreadySigned(address signer);
    error JoinClosed(uint32 batchId);
    error SignerStakeTooLow(address signer, uint256 stake, uint256 required);
    error WindowNotCovered(uint64 challengeWindow, uint32 deallocationDelay);
    error StrategiesNotAscending();
    error NoStrategies();

    constructor(
        IServiceManager serviceManager_,
        IAllocationManager allocationManager_,
        uint32 operatorSetId_,
        IStrategy[] memory strategies_,
        uint64 challengeWindow_,
        uint16 quorumBps_,
        uint256 slashWad_,
        uint256 challengeBond_,
        uint256 minSignerStake_,
        uint256 challengeBounty_
    ) {
        // a signer must stay slashable for the whole window, whatever it does after signing: one
        // who deregisters or deallocates stays slashable for DEALLOCATION_DELAY blocks
        uint32 delay = allocationManager_.DEALLOCATION_DELAY();
        if (challengeWindow_ >= delay) revert WindowNotCovered(challengeWindow_, delay);
        for (uint256 i = 1; i < strategies_.length; i++) {
            if (address(strategies_[i]) <= address(strategies_[i - 1])) revert StrategiesNotAscending();
        }
        if (strategies_.length == 0) revert NoStrategies();
        serviceManager = serviceManager_;
        allocationManager = allocationManager_;
        operatorSetId = operatorSetId_;
        _strategies = strategies_;
        challengeWindow = challengeWindow_;
        quorumBps = quorumBps_;
        slashWad = slashWad_;
        challengeBond = challengeBond_;
        minSignerStake = minSignerStake_;
        challengeBounty = challengeBounty_;
    }

    function strategies() external view returns (IStrategy[] memory) {
        return _strategies;
    }

    function operatorSet() public view returns (OperatorSet memory) {
        return OperatorSet(address(serviceManager), operatorSetId);
    }

    function createTask(bytes32 modelId, uint256 inputCommitment, uint64 deadline) external payable returns (uint32 taskId) {
        (address key,,) = serviceManager.modelOf(modelId);
        bool sliced = key == address(0) && serviceManager.slicesOf(modelId).length != 0;
        if (key == address(0) && !sliced) revert UnknownModel(modelId);
        if (inputCommitment >= R) revert InvalidCommitment();
        if (deadline <= block.number) revert InvalidDeadline();
        if (msg.value > type(uint96).max) revert FeeTooLarge(msg.value);
        Task memory task = Task(modelId, inputCommitment, msg.sender, uint96(msg.value), uint64(block.number), deadline);
        taskId = taskCount++;
        records[taskId].taskHash = keccak256(abi.encode(task));
        records[taskId].status = Status.Open;
        if (sliced) records[taskId].sliced = true;
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
        if (!allocationManager.isMemberOfOperatorSet(msg.sender, operatorSet())) revert NotOperator(msg.sender);
        _checkProof(taskId, task, proof, publicSignals);
        r.status = Status.Proven;
        emit TaskProven(taskId, msg.sender, resultHashOf(publicSignals), proof, publicSignals);
        serviceManager.accrue{value: task.fee}(msg.sender);
    }

    /// Settles a sliced model's task by one proof per slice, in order. Every slice carries the task's
    /// binding for the caller; slice 0 proves from the task's input commitment and each next slice
    /// from the hash the previous one published (its first public signal), so no slice can be
    /// reordered, reused from another task or replaced in the middle. The result is the last
    /// slice's outputs.
    function submitProvenSliced(uint32 taskId, Task calldata task, Proof[] calldata proofs, uint256[][] calldata publicSignals)
        external
        nonReentrant
    {
        Record storage r = _open(taskId, task);
        if (block.number > task.deadline) revert TaskExpired(taskId);
        if (!allocationManager.isMemberOfOperatorSet(msg.sender, operatorSet())) revert NotOperator(msg.sender);
        bytes32[] memory slices = serviceManager.slicesOf(task.modelId);
        if (slices.length == 0) revert NotSlicedModel(task.modelId);
        if (proofs.length != slices.length || publicSignals.length != slices.length) {
            revert WrongSliceCount(slices.length, proofs.length == slices.length ? publicSignals.length : proofs.length);
        }
        uint256 binding = bindingOf(taskId, msg.sender);
        uint256 from = task.inputCommitment;
        for (uint256 k = 0; k < slices.length; k++) {
            (address key, uint8 numPublic) = serviceManager.verifierOf(slices[k]);
            uint256[] calldata pub = publicSignals[k];
            if (pub.length != numPublic) revert WrongPublicSignalCount(numPublic, pub.length);
            if (pub[numPublic - 2] != from) {
                if (k == 0) revert InputCommitmentMismatch();
                revert ChainBroken(k);
            }
            if (pub[numPublic - 1] != binding) revert BindingMismatch(binding);
            if (!Groth16Key.verify(key, proofs[k].a, proofs[k].b, proofs[k].c, pub)) revert InvalidSliceProof(k);
            from = pub[0];
        }
        r.status = Status.Proven;
        uint256[] calldata last = publicSignals[slices.length - 1];
        emit SlicedTaskProven(taskId, msg.sender, resultHashOf(last), proofs, publicSignals);
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
    /// attestationDigest). Signers are ascending members of the operator set, at most MAX_SIGNERS,
    /// each with at least minSignerStake; their stake must reach the quorum of all members' stake.
    /// Stake is EigenLayer's minimum slashable stake at the block the window closes: withdrawn
    /// shares and deallocations due before then do not count, and what counts stays slashable
    /// through the window (challengeWindow < DEALLOCATION_DELAY).
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
        OperatorSet memory set = operatorSet();
        address previous;
        for (uint256 i = 0; i < signers.length; i++) {
            address s = signers[i];
            if (s <= previous) revert SignersNotSorted();
            previous = s;
            if (!allocationManager.isMemberOfOperatorSet(s, set)) revert NotOperator(s);
            if (_recover(digest, signatures[i]) != s) revert BadSignature(s);
        }
        uint64 windowEnd = uint64(block.number) + challengeWindow;
        uint256[] memory stakes = _slashableStakes(set, signers, windowEnd);
        uint256 signed;
        for (uint256 i = 0; i < signers.length; i++) {
            if (stakes[i] < minSignerStake || stakes[i] == 0) revert SignerStakeTooLow(signers[i], stakes[i], minSignerStake);
            signed += stakes[i];
        }
        uint256[] memory all = _slashableStakes(set, allocationManager.getMembers(set), windowEnd);
        uint256 total;
        for (uint256 i = 0; i < all.length; i++) total += all[i];
        if (total == 0 || signed * 10_000 < total * quorumBps) revert QuorumNotMet(signed, total);
        batchId = ++batchCount;
        for (uint256 t = 0; t < taskIds.length; t++) {
            Record storage r = _open(taskIds[t], tasks[t]);
            if (block.number > tasks[t].deadline) revert TaskExpired(taskIds[t]);
            if (r.sliced) revert ProvenOnly(taskIds[t]);
            r.status = Status.Attested;
            r.windowEnd = windowEnd;
            r.batchId = batchId;
        }
        batches[batchId] = keccak256(abi.encode(taskIds, resultHashes, signers, stakes));
        emit BatchAttested(batchId, taskIds, resultHashes, signers, stakes, windowEnd);
    }

    /// Each operator's minimum slashable stake at `atBlock`, summed over the AVS's strategies.
    function _slashableStakes(OperatorSet memory set, address[] memory operators, uint64 atBlock)
        private
        view
        returns (uint256[] memory sums)
    {
        uint256[][] memory stake = allocationManager.getMinimumSlashableStake(set, operators, _strategies, uint32(atBlock));
        sums = new uint256[](operators.length);
        for (uint256 i = 0; i < operators.length; i++) {
            for (uint256 j = 0; j < stake[i].length; j++) sums[i] += stake[i][j];
        }
    }

    /// A signer of a batch's digest whom the submitter left out adds itself during the first half of
    /// the window, so whoever submits `attest` cannot choose who is paid. It must meet the same
    /// rules as the batch's signers (member, minSignerStake at the window's close, at most
    /// MAX_SIGNERS in all); from then on it is paid pro rata at finalize and slashed by a successful
    /// challenge. It cannot wait to see: joins close halfway, and a batch with an overturned task
    /// (which its signature covers) takes no joiner. The batch's quorum is not changed. Anyone may
    /// submit the signature.
    function joinAttestation(uint32 batchId, Batch calldata batch, Task[] calldata tasks, address signer, bytes calldata signature)
        external
    {
        if (batches[batchId] != _batchHash(batch)) revert BatchMismatch();
        uint32[] calldata taskIds = batch.taskIds;
        if (tasks.length != taskIds.length) revert EmptyBatch();
        for (uint256 t = 0; t < taskIds.length; t++) {
            Record storage r = records[taskIds[t]];
            if (r.taskHash != keccak256(abi.encode(tasks[t]))) revert TaskMismatch(taskIds[t]);
            if (r.status != Status.Attested) revert NotAttested(taskIds[t]);
        }
        // every task of a batch shares its window
        uint64 windowEnd = records[taskIds[0]].windowEnd;
        if (block.number > windowEnd - challengeWindow / 2) revert JoinClosed(batchId);
        address[] storage joined = _joiners[batchId];
        for (uint256 i = 0; i < batch.signers.length; i++) {
            if (batch.signers[i] == signer) revert AlreadySigned(signer);
        }
        for (uint256 i = 0; i < joined.length; i++) {
            if (joined[i] == signer) revert AlreadySigned(signer);
        }
        if (batch.signers.length + joined.length >= MAX_SIGNERS) {
            revert TooManySigners(batch.signers.length + joined.length + 1, MAX_SIGNERS);
        }
        OperatorSet memory set = operatorSet();
        if (!allocationManager.isMemberOfOperatorSet(signer, set)) revert NotOperator(signer);
        if (_recover(attestationDigest(taskIds, tasks, batch.resultHashes), signature) != signer) revert BadSignature(signer);
        address[] memory one = new address[](1);
        one[0] = signer;
        uint256 stake = _slashableStakes(set, one, windowEnd)[0];
        if (stake < minSignerStake || stake == 0) revert SignerStakeTooLow(signer, stake, minSignerStake);
        joined.push(signer);
        _joinerStakes[batchId].push(stake);
        emit AttestationJoined(batchId, signer, stake);
    }

    /// The signers who joined batch `batchId` after it was attested, and their stakes.
    function joinersOf(uint32 batchId) external view returns (address[] memory, uint256[] memory) {
        return (_joiners[batchId], _joinerStakes[batchId]);
    }

    /// The public part of an attested batch, re-supplied in calldata and checked against its stored hash.
    struct Batch {
        uint32[] taskIds;
        bytes32[] resultHashes;
        address[] signers;
        uint256[] stakes;
    }

    /// A proof of a different result for task `batch.taskIds[index]` overturns its attestation: every
    /// signer still slashable is slashed (EigenLayer burns the shares), the consumer gets its fee
    /// back, the challenger its bond and the bounty. A proof of the same result loses the bond to
    /// the bounty reserve.
    function challenge(uint32 batchId, Batch calldata batch, uint256 index, Task calldata task, Proof calldata proof, uint256[] calldata publicSignals)
        external
        payable
        nonReentrant
    {
        if (batches[batchId] != _batchHash(batch)) revert BatchMismatch();
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
            serviceManager.fundBounty{value: msg.value}();
            return;
        }
        r.status = Status.Overturned;
        uint256 slashed = _slashAll(taskId, batch.signers, _joiners[batchId]);
        emit ChallengeSucceeded(taskId, msg.sender, proven, slashed, proof, publicSignals);
        serviceManager.accrue{value: msg.value}(msg.sender);
        if (task.fee > 0) serviceManager.accrue{value: task.fee}(task.consumer);
        uint256 bounty = serviceManager.payBounty(msg.sender, challengeBounty);
        emit ChallengeRewarded(taskId, msg.sender, bounty, task.fee);
    }

    /// Slashes every signer (and joiner) still slashable; one that is not (it left long ago), or
    /// that the core refuses, is skipped and logged, never a reason for the whole challenge to fail.
    function _slashAll(uint32 taskId, address[] calldata signers, address[] storage joined) private returns (uint256 slashed) {
        IStrategy[] memory strategies_ = _strategies;
        uint256[] memory wads = new uint256[](strategies_.length);
        for (uint256 j = 0; j < wads.length; j++) wads[j] = slashWad;
        OperatorSet memory set = operatorSet();
        for (uint256 i = 0; i < signers.length; i++) slashed += _slashOne(taskId, signers[i], set, strategies_, wads);
        for (uint256 i = 0; i < joined.length; i++) slashed += _slashOne(taskId, joined[i], set, strategies_, wads);
    }

    function _slashOne(uint32 taskId, address signer, OperatorSet memory set, IStrategy[] memory strategies_, uint256[] memory wads)
        private
        returns (uint256 slashed)
    {
        if (!allocationManager.isOperatorSlashable(signer, set)) {
            emit SignerNotSlashable(taskId, signer);
            return 0;
        }
        try serviceManager.slashOperator(
            IAllocationManager.SlashingParams(signer, operatorSetId, strategies_, wads, "attested a result a proof contradicts")
        ) returns (uint256, uint256[] memory shares) {
            for (uint256 j = 0; j < shares.length; j++) slashed += shares[j];
        } catch {
            emit SignerNotSlashable(taskId, signer);
        }
    }

    /// After the window, the batch's unchallenged results stand: their fees go to the signers and
    /// joiners, pro rata to the stake each had at stake for the batch. Overturned tasks are skipped (their fee went back
    /// to the consumer).
    function finalize(uint32 batchId, Batch calldata batch, Task[] calldata tasks) external nonReentrant {
        if (batches[batchId] != _batchHash(batch)) revert BatchMismatch();
        uint32[] calldata taskIds = batch.taskIds;
        address[] calldata signers = batch.signers;
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
        // every recorded stake is at least minSignerStake and non-zero, so total > 0
        address[] storage joined = _joiners[batchId];
        uint256[] storage joinedStakes = _joinerStakes[batchId];
        uint256 total;
        for (uint256 i = 0; i < signers.length; i++) total += batch.stakes[i];
        for (uint256 i = 0; i < joined.length; i++) total += joinedStakes[i];
        uint256 paid;
        for (uint256 i = 1; i < signers.length; i++) {
            uint256 share = (fees * batch.stakes[i]) / total;
            paid += share;
            serviceManager.accrue{value: share}(signers[i]);
        }
        for (uint256 i = 0; i < joined.length; i++) {
            uint256 share = (fees * joinedStakes[i]) / total;
            paid += share;
            serviceManager.accrue{value: share}(joined[i]);
        }
        // the rounding remainder goes to the first signer
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

    function _batchHash(Batch calldata b) private pure returns (bytes32) {
        return keccak256(abi.encode(b.taskIds, b.resultHashes, b.signers, b.stakes));
    }

    function _open(uint32 taskId, Task calldata task) private view returns (Record storage r) {
        r = records[taskId];
        if (r.taskHash != keccak256(abi.encode(task)) || r.taskHash == bytes32(0)) revert TaskMismatch(taskId);
        if (r.status != Status.Open) revert TaskNotOpen(taskId, r.status);
    }

    /// Public signals: [outputs…, inputHash, binding]; the proof is checked against the model's
    /// registered verification key.
    function _checkProof(uint32 taskId, Task calldata task, Proof calldata proof, uint256[] calldata pub) private view {
        (address key, uint8 numPublic) = serviceManager.verifierOf(task.modelId);
        if (key == address(0)) revert SlicedModel(task.modelId);
        if (pub.length != numPublic) revert WrongPublicSignalCount(numPublic, pub.length);
        if (pub[numPublic - 2] != task.inputCommitment) revert InputCommitmentMismatch();
        uint256 binding = bindingOf(taskId, msg.sender);
        if (pub[numPublic - 1] != binding) revert BindingMismatch(binding);
        if (!Groth16Key.verify(key, proof.a, proof.b, proof.c, pub)) revert InvalidProof();
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
