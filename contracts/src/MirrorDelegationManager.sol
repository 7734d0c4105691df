// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "./Interfaces.sol";
import {IStrategy, IStrategyManager, IDelegationManager} from "./EigenInterfaces.sol";
import {MirrorStrategy} from "./MirrorStrategy.sol";
import {ReentrancyGuard} from "./ReentrancyGuard.sol";

interface IMirrorAllocationDelay {
    function setAllocationDelay(address operator, uint32 delay) external;
}

/// Local mirror of EigenLayer's StrategyManager and DelegationManager in one contract (the
/// deployment names it for both roles): deposits into whitelisted strategies, operators who
/// delegate to themselves, queued withdrawals that stay slashable for `minWithdrawalDelayBlocks`,
/// and the share burning a slash causes. Scope of the mirror: a staker is either its own operator
/// or undelegated (no third-party delegation), and slashed shares are burned at once.
/// Invariant: operatorShares[op][s] == depositShares[op][s] for an operator (self-delegated).
contract MirrorDelegationManager is IStrategyManager, IDelegationManager, ReentrancyGuard {
    /// EigenLayer's default burn address: slashed funds of non-redistributing sets go here.
    address public constant DEFAULT_BURN_ADDRESS = 0x00000000000000000000000000000000000E16E4;

    address public immutable owner;
    uint32 public immutable minWithdrawalDelayBlocks;
    address public allocationManager;
    mapping(IStrategy => bool) public strategyIsWhitelisted;
    mapping(address => bool) public isOperator;
    mapping(address staker => address) public delegatedTo;
    mapping(address staker => mapping(IStrategy => uint256)) public depositShares;
    mapping(address operator => mapping(IStrategy => uint256)) public operatorShares;
    mapping(address staker => uint256) public cumulativeWithdrawalsQueued;
    /// Shares still owed by a queued withdrawal (reduced by slashes while it is slashable).
    mapping(bytes32 root => uint256[]) private _queuedShares;
    mapping(bytes32 root => IStrategy[]) private _queuedStrategies;
    mapping(bytes32 root => bool) public pendingWithdrawals;
    /// Queued withdrawals per operator, with the block after which a slash no longer reaches them.
    mapping(address operator => bytes32[]) private _queuedRoots;
    mapping(bytes32 root => uint32) private _slashableThrough;

    event OperatorRegistered(address indexed operator, address delegationApprover);
    event Deposit(address staker, IStrategy strategy, uint256 shares);
    event SlashingWithdrawalQueued(bytes32 withdrawalRoot, Withdrawal withdrawal, uint256[] sharesToWithdraw);
    event SlashingWithdrawalCompleted(bytes32 withdrawalRoot);
    event OperatorSharesSlashed(address operator, IStrategy strategy, uint256 totalSlashedShares);

    error NotOwner();
    error AlreadyInitialized();
    error OnlyAllocationManager();
    error ActivelyDelegated();
    error StrategyNotWhitelisted();
    error ZeroAmount();
    error InputArrayLengthMismatch();
    error WithdrawalNotQueued();
    error WithdrawalDelayNotElapsed();
    error UnauthorizedCaller();
    error WithdrawalExceedsMax();
    error ReceiveAsSharesUnsupported();
    error TransferFailed();

    constructor(uint32 minWithdrawalDelayBlocks_) {
        owner = msg.sender;
        minWithdrawalDelayBlocks = minWithdrawalDelayBlocks_;
    }

    /// One-time: the allocation manager that sets delays and slashes.
    function initialize(address allocationManager_) external {
        if (msg.sender != owner) revert NotOwner();
        if (allocationManager != address(0)) revert AlreadyInitialized();
        allocationManager = allocationManager_;
    }

    function addStrategyToWhitelist(IStrategy strategy) external {
        if (msg.sender != owner) revert NotOwner();
        strategyIsWhitelisted[strategy] = true;
    }

    // --- DelegationManager ---

    function registerAsOperator(address initDelegationApprover, uint32 allocationDelay, string calldata) external {
        if (delegatedTo[msg.sender] != address(0)) revert ActivelyDelegated();
        isOperator[msg.sender] = true;
        delegatedTo[msg.sender] = msg.sender;
        emit OperatorRegistered(msg.sender, initDelegationApprover);
        IMirrorAllocationDelay(allocationManager).setAllocationDelay(msg.sender, allocationDelay);
    }

    // --- StrategyManager ---

    function depositIntoStrategy(IStrategy strategy, IERC20 token, uint256 amount) external nonReentrant returns (uint256) {
        if (!strategyIsWhitelisted[strategy]) revert StrategyNotWhitelisted();
        if (amount == 0) revert ZeroAmount();
        depositShares[msg.sender][strategy] += amount;
        address op = delegatedTo[msg.sender];
        if (op != address(0)) operatorShares[op][strategy] += amount;
        emit Deposit(msg.sender, strategy, amount);
        if (!token.transferFrom(msg.sender, address(strategy), amount)) revert TransferFailed();
        return amount;
    }

    // --- withdrawals ---

    /// Shares leave the operator's delegated (slashable-for-new-work) stake at once, and stay
    /// slashable for minWithdrawalDelayBlocks while they wait.
    function queueWithdrawals(QueuedWithdrawalParams[] calldata params) external returns (bytes32[] memory roots) {
        roots = new bytes32[](params.length);
        address op = delegatedTo[msg.sender];
        for (uint256 p = 0; p < params.length; p++) {
            QueuedWithdrawalParams calldata q = params[p];
            if (q.strategies.length != q.depositShares.length) revert InputArrayLengthMismatch();
            for (uint256 i = 0; i < q.strategies.length; i++) {
                uint256 amount = q.depositShares[i];
                if (amount == 0) revert ZeroAmount();
                if (amount > depositShares[msg.sender][q.strategies[i]]) revert WithdrawalExceedsMax();
                depositShares[msg.sender][q.strategies[i]] -= amount;
                if (op != address(0)) operatorShares[op][q.strategies[i]] -= amount;
            }
            Withdrawal memory w = Withdrawal(
                msg.sender, op, msg.sender, cumulativeWithdrawalsQueued[msg.sender]++, uint32(block.number), q.strategies, q.depositShares
            );
            bytes32 root = keccak256(abi.encode(w));
            pendingWithdrawals[root] = true;
            _queuedShares[root] = q.depositShares;
            _queuedStrategies[root] = q.strategies;
            if (op != address(0)) {
                _queuedRoots[op].push(root);
                _slashableThrough[root] = uint32(block.number) + minWithdrawalDelayBlocks;
            }
            roots[p] = root;
            emit SlashingWithdrawalQueued(root, w, q.depositShares);
        }
    }

    /// Pays what is left of a queued withdrawal (after any slash) in tokens, once the delay passed.
    function completeQueuedWithdrawal(Withdrawal calldata w, IERC20[] calldata tokens, bool receiveAsTokens) external nonReentrant {
        bytes32 root = keccak256(abi.encode(w));
        if (!pendingWithdrawals[root]) revert WithdrawalNotQueued();
        if (msg.sender != w.withdrawer) revert UnauthorizedCaller();
        if (block.number <= uint256(w.startBlock) + minWithdrawalDelayBlocks) revert WithdrawalDelayNotElapsed();
        if (!receiveAsTokens) revert ReceiveAsSharesUnsupported();
        if (tokens.length != w.strategies.length) revert InputArrayLengthMismatch();
        uint256[] memory shares = _queuedShares[root];
        delete pendingWithdrawals[root];
        delete _queuedShares[root];
        delete _queuedStrategies[root];
        emit SlashingWithdrawalCompleted(root);
        for (uint256 i = 0; i < w.strategies.length; i++) {
            if (shares[i] > 0) MirrorStrategy(address(w.strategies[i])).withdraw(msg.sender, shares[i]);
        }
    }

    // --- slashing (called by the allocation manager) ---

    /// Burns the share of the operator's stake a slash took: maxMagnitude fell from prevMax to newMax,
    /// so every delegated or still-slashable queued share of this strategy shrinks by that ratio.
    function slashOperatorShares(address operator, IStrategy strategy, uint64 prevMax, uint64 newMax) external returns (uint256 burned) {
        if (msg.sender != allocationManager) revert OnlyAllocationManager();
        if (prevMax == 0) return 0;
        uint256 current = operatorShares[operator][strategy];
        uint256 cut = current - (current * newMax) / prevMax;
        operatorShares[operator][strategy] = current - cut;
        depositShares[operator][strategy] -= cut; // self-delegated: the operator is the staker
        burned = cut;
        // withdrawals out of reach (completed, or past their delay) leave the list: it stays short
        bytes32[] storage roots = _queuedRoots[operator];
        uint256 r = 0;
        while (r < roots.length) {
            bytes32 root = roots[r];
            if (!pendingWithdrawals[root] || block.number > _slashableThrough[root]) {
                roots[r] = roots[roots.length - 1];
                roots.pop();
                continue;
            }
            burned += _slashQueued(root, strategy, prevMax, newMax);
            r++;
        }
        emit OperatorSharesSlashed(operator, strategy, burned);
        if (burned > 0) MirrorStrategy(address(strategy)).withdraw(DEFAULT_BURN_ADDRESS, burned);
    }

    function _slashQueued(bytes32 root, IStrategy strategy, uint64 prevMax, uint64 newMax) private returns (uint256 cut) {
        uint256[] storage shares = _queuedShares[root];
        IStrategy[] storage strategies = _queuedStrategies[root];
        for (uint256 i = 0; i < shares.length; i++) {
            if (strategies[i] != strategy) continue;
            uint256 c = shares[i] - (shares[i] * newMax) / prevMax;
            shares[i] -= c;
            cut += c;
        }
    }

    // --- views ---

    function getOperatorShares(address operator, IStrategy[] memory strategies) external view returns (uint256[] memory shares) {
        shares = new uint256[](strategies.length);
        for (uint256 i = 0; i < strategies.length; i++) shares[i] = operatorShares[operator][strategies[i]];
    }

    function queuedShares(bytes32 root) external view returns (uint256[] memory) {
        return _queuedShares[root];
    }
}
