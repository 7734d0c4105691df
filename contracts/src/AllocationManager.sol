// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20, IAVSRegistrar, IAllocationManager, OperatorSet} from "./Interfaces.sol";
import {ReentrancyGuard} from "./ReentrancyGuard.sol";

/// A local mirror of EigenLayer's AllocationManager for one stake token: operators deposit stake,
/// register for an AVS's operator sets through its registrar, and can be slashed by the AVS (or its
/// appointed slasher). Stake is checkpointed by block; withdrawals wait `unbondingDelay` blocks and
/// stay slashable while they wait. An operator who deregisters stays slashable for `unbondingDelay`
/// blocks more (EigenLayer: until its deallocation completes), so leaving cannot dodge a slash for
/// anything signed while registered. `memberStake(avs)` is the stake of registered operators only:
/// stake that never registered cannot weigh on an AVS's quorum.
contract AllocationManager is IAllocationManager, ReentrancyGuard {
    struct Checkpoint {
        uint64 fromBlock;
        uint192 amount;
    }

    struct Withdrawal {
        uint192 amount;
        uint64 unlockBlock;
    }

    IERC20 public immutable token;
    uint64 public immutable unbondingDelay;
    mapping(address => Checkpoint[]) private _stake;
    Checkpoint[] private _total;
    mapping(address => Withdrawal) public pendingWithdrawal;
    mapping(address avs => address) public registrarOf;
    mapping(address avs => address) public slasherOf;
    mapping(address avs => mapping(address operator => bool)) public isMember;
    /// Last block at which a deregistered operator can still be slashed by the AVS.
    mapping(address avs => mapping(address operator => uint64)) public slashableUntil;
    /// Current stake of the AVS's registered operators.
    mapping(address avs => uint256) public memberStake;
    mapping(address operator => address[]) private _avsOf;

    event AVSConfigured(address indexed avs, address registrar, address slasher);
    event StakeDeposited(address indexed operator, uint256 amount);
    event WithdrawalQueued(address indexed operator, uint256 amount, uint64 unlockBlock);
    event WithdrawalCompleted(address indexed operator, uint256 amount);
    event OperatorAddedToOperatorSet(address indexed operator, OperatorSet operatorSet);
    event OperatorRemovedFromOperatorSet(address indexed operator, OperatorSet operatorSet);

    error NotAuthorized();
    error AVSNotConfigured();
    error AlreadyMember();
    error NotMember();
    error ZeroAmount();
    error InsufficientStake();
    error WithdrawalPending();
    error WithdrawalLocked();
    error InvalidWad();

    constructor(IERC20 token_, uint64 unbondingDelay_) {
        token = token_;
        unbondingDelay = unbondingDelay_;
    }

    /// Called by the AVS itself: names its registrar and the contract allowed to slash for it.
    function configureAVS(address registrar, address slasher) external {
        registrarOf[msg.sender] = registrar;
        slasherOf[msg.sender] = slasher;
        emit AVSConfigured(msg.sender, registrar, slasher);
    }

    function depositStake(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        _write(_stake[msg.sender], stakeOf(msg.sender) + amount);
        _write(_total, _latest(_total) + amount);
        _adjustMemberStake(msg.sender, int256(amount));
        emit StakeDeposited(msg.sender, amount);
        if (!token.transferFrom(msg.sender, address(this), amount)) revert InsufficientStake();
    }

    /// Stops `amount` counting for quorums now; it stays slashable until it unlocks.
    function queueWithdrawal(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (pendingWithdrawal[msg.sender].amount != 0) revert WithdrawalPending();
        uint256 current = stakeOf(msg.sender);
        if (amount > current) revert InsufficientStake();
        _write(_stake[msg.sender], current - amount);
        _write(_total, _latest(_total) - amount);
        _adjustMemberStake(msg.sender, -int256(amount));
        uint64 unlock = uint64(block.number) + unbondingDelay;
        pendingWithdrawal[msg.sender] = Withdrawal(uint192(amount), unlock);
        emit WithdrawalQueued(msg.sender, amount, unlock);
    }

    function completeWithdrawal() external nonReentrant {
        Withdrawal memory w = pendingWithdrawal[msg.sender];
        if (w.amount == 0) revert ZeroAmount();
        if (block.number < w.unlockBlock) revert WithdrawalLocked();
        delete pendingWithdrawal[msg.sender];
        emit WithdrawalCompleted(msg.sender, w.amount);
        if (!token.transfer(msg.sender, w.amount)) revert InsufficientStake();
    }

    function registerForOperatorSets(address operator, RegisterParams calldata params) external {
        if (msg.sender != operator) revert NotAuthorized();
        address registrar = registrarOf[params.avs];
        if (registrar == address(0)) revert AVSNotConfigured();
        if (isMember[params.avs][operator]) revert AlreadyMember();
        isMember[params.avs][operator] = true;
        memberStake[params.avs] += stakeOf(operator);
        if (slashableUntil[params.avs][operator] == 0) _avsOf[operator].push(params.avs);
        slashableUntil[params.avs][operator] = type(uint64).max;
        for (uint256 i = 0; i < params.operatorSetIds.length; i++) {
            emit OperatorAddedToOperatorSet(operator, OperatorSet(params.avs, params.operatorSetIds[i]));
        }
        IAVSRegistrar(registrar).registerOperator(operator, params.avs, params.operatorSetIds, params.data);
    }

    function deregisterFromOperatorSets(address operator, address avs, uint32[] calldata operatorSetIds) external {
        if (msg.sender != operator) revert NotAuthorized();
        if (!isMember[avs][operator]) revert NotMember();
        isMember[avs][operator] = false;
        memberStake[avs] -= stakeOf(operator);
        slashableUntil[avs][operator] = uint64(block.number) + unbondingDelay;
        for (uint256 i = 0; i < operatorSetIds.length; i++) {
            emit OperatorRemovedFromOperatorSet(operator, OperatorSet(avs, operatorSetIds[i]));
        }
        IAVSRegistrar(registrarOf[avs]).deregisterOperator(operator, avs, operatorSetIds);
    }

    /// Slashes wadsToSlash[0] (1e18 = all) of the operator's stake and pending withdrawal; the tokens go to the AVS.
    function slashOperator(address avs, SlashingParams calldata params) external nonReentrant returns (uint256 slashed) {
        if (msg.sender != avs && msg.sender != slasherOf[avs]) revert NotAuthorized();
        if (!isSlashable(avs, params.operator)) revert NotMember();
        if (params.wadsToSlash.length == 0 || params.wadsToSlash[0] > 1e18) revert InvalidWad();
        uint256 wad = params.wadsToSlash[0];
        uint256 current = stakeOf(params.operator);
        uint256 fromStake = (current * wad) / 1e18;
        Withdrawal storage w = pendingWithdrawal[params.operator];
        uint256 fromWithdrawal = (uint256(w.amount) * wad) / 1e18;
        w.amount -= uint192(fromWithdrawal);
        _write(_stake[params.operator], current - fromStake);
        _write(_total, _latest(_total) - fromStake);
        _adjustMemberStake(params.operator, -int256(fromStake));
        slashed = fromStake + fromWithdrawal;
        emit OperatorSlashed(params.operator, OperatorSet(avs, params.operatorSetId), params.strategies, params.wadsToSlash, params.description);
        if (slashed > 0 && !token.transfer(avs, slashed)) revert InsufficientStake();
    }

    /// Registered, or deregistered less than `unbondingDelay` blocks ago.
    function isSlashable(address avs, address operator) public view returns (bool) {
        return block.number <= slashableUntil[avs][operator];
    }

    function stakeOf(address operator) public view returns (uint256) {
        return _latest(_stake[operator]);
    }

    function stakeAt(address operator, uint256 blockNumber) external view returns (uint256) {
        return _at(_stake[operator], blockNumber);
    }

    function totalStakeAt(uint256 blockNumber) external view returns (uint256) {
        return _at(_total, blockNumber);
    }

    function _latest(Checkpoint[] storage cps) private view returns (uint256) {
        uint256 n = cps.length;
        return n == 0 ? 0 : cps[n - 1].amount;
    }

    /// Value in force at the end of `blockNumber` (binary search over checkpoints).
    function _at(Checkpoint[] storage cps, uint256 blockNumber) private view returns (uint256) {
        uint256 lo = 0;
        uint256 hi = cps.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (cps[mid].fromBlock > blockNumber) hi = mid;
            else lo = mid + 1;
        }
        return lo == 0 ? 0 : cps[lo - 1].amount;
    }

    /// Keeps memberStake in step for every AVS the operator is registered with.
    function _adjustMemberStake(address operator, int256 delta) private {
        address[] storage list = _avsOf[operator];
        for (uint256 i = 0; i < list.length; i++) {
            address avs = list[i];
            if (!isMember[avs][operator]) continue;
            memberStake[avs] = delta >= 0 ? memberStake[avs] + uint256(delta) : memberStake[avs] - uint256(-delta);
        }
    }

    function _write(Checkpoint[] storage cps, uint256 amount) private {
        uint256 n = cps.length;
        if (n > 0 && cps[n - 1].fromBlock == block.number) cps[n - 1].amount = uint192(amount);
        else cps.push(Checkpoint(uint64(block.number), uint192(amount)));
    }
}
