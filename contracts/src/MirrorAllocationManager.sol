// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager, IAVSRegistrar, IStrategy, OperatorSet} from "./EigenInterfaces.sol";

interface IMirrorDelegation {
    function isOperator(address operator) external view returns (bool);
    function getOperatorShares(address operator, IStrategy[] memory strategies) external view returns (uint256[] memory);
    function slashOperatorShares(address operator, IStrategy strategy, uint64 prevMax, uint64 newMax) external returns (uint256);
}

/// Local mirror of EigenLayer's AllocationManager with its ABI and semantics: AVS metadata, operator
/// sets with strategies, registration through the AVS's registrar, magnitudes per strategy (1e18 =
/// all of an operator's delegated shares), allocations that take effect after the operator's
/// allocation delay, deallocations and deregistrations that stay slashable for DEALLOCATION_DELAY
/// blocks, and slashing by the set's slasher (the AVS) that burns the slashed shares.
/// Not mirrored: the PermissionController (only an account itself acts for it), redistributing
/// sets, pausing.
contract MirrorAllocationManager is IAllocationManager {
    uint64 internal constant WAD = 1e18;

    struct RegistrationStatus {
        bool registered;
        uint32 slashableUntil;
    }

    struct DelayInfo {
        uint32 delay;
        bool isSet;
        uint32 pendingDelay;
        uint32 effectBlock;
    }

    IMirrorDelegation public immutable delegation;
    uint32 public immutable DEALLOCATION_DELAY;
    uint32 public immutable ALLOCATION_CONFIGURATION_DELAY;

    mapping(address avs => bool) public avsRegisteredMetadata;
    mapping(address avs => IAVSRegistrar) private _registrar;
    mapping(bytes32 key => bool) private _setExists;
    mapping(bytes32 key => IStrategy[]) private _setStrategies;
    mapping(bytes32 key => mapping(IStrategy => bool)) private _setHasStrategy;
    mapping(bytes32 key => address[]) private _members;
    mapping(bytes32 key => mapping(address => uint256)) private _memberIndex; // index + 1
    mapping(address operator => mapping(bytes32 key => RegistrationStatus)) private _status;
    mapping(address operator => DelayInfo) private _delay;
    mapping(address operator => mapping(bytes32 key => mapping(IStrategy => Allocation))) private _allocations;
    mapping(address operator => mapping(IStrategy => uint64)) public encumberedMagnitude;
    /// WAD minus the max magnitude: zero until the first slash.
    mapping(address operator => mapping(IStrategy => uint64)) private _lostMagnitude;
    /// Operator sets with a pending deallocation, per strategy, oldest first (head is the next to clear).
    mapping(address operator => mapping(IStrategy => bytes32[])) private _deallocQueue;
    mapping(address operator => mapping(IStrategy => uint256)) private _deallocHead;
    mapping(bytes32 key => uint256) private _slashCount;

    event AVSMetadataURIUpdated(address indexed avs, string metadataURI);
    event OperatorSetCreated(OperatorSet operatorSet);
    event StrategyAddedToOperatorSet(OperatorSet operatorSet, IStrategy strategy);
    event AVSRegistrarSet(address avs, IAVSRegistrar registrar);
    event AllocationDelaySet(address operator, uint32 delay, uint32 effectBlock);
    event AllocationUpdated(address operator, OperatorSet operatorSet, IStrategy strategy, uint64 magnitude, uint32 effectBlock);
    event EncumberedMagnitudeUpdated(address operator, IStrategy strategy, uint64 encumberedMagnitude);
    event MaxMagnitudeUpdated(address operator, IStrategy strategy, uint64 maxMagnitude);
    event OperatorAddedToOperatorSet(address indexed operator, OperatorSet operatorSet);
    event OperatorRemovedFromOperatorSet(address indexed operator, OperatorSet operatorSet);

    error InvalidCaller();
    error NonexistentAVSMetadata();
    error InvalidOperatorSet();
    error InvalidAVSRegistrar();
    error InvalidOperator();
    error AlreadyMemberOfSet();
    error NotMemberOfSet();
    error UninitializedAllocationDelay();
    error InputArrayLengthMismatch();
    error ModificationAlreadyPending();
    error SameMagnitude();
    error InsufficientMagnitude();
    error OperatorNotSlashable();
    error StrategiesMustBeInAscendingOrder();
    error InvalidWadToSlash();
    error StrategyNotInOperatorSet();

    constructor(IMirrorDelegation delegation_, uint32 deallocationDelay, uint32 allocationConfigurationDelay) {
        delegation = delegation_;
        DEALLOCATION_DELAY = deallocationDelay;
        ALLOCATION_CONFIGURATION_DELAY = allocationConfigurationDelay;
    }

    // --- AVS side ---

    function updateAVSMetadataURI(address avs, string calldata metadataURI) external {
        if (msg.sender != avs) revert InvalidCaller();
        avsRegisteredMetadata[avs] = true;
        emit AVSMetadataURIUpdated(avs, metadataURI);
    }

    /// The slasher of a set made this way is the AVS itself.
    function createOperatorSets(address avs, CreateSetParams[] calldata params) external {
        if (msg.sender != avs) revert InvalidCaller();
        if (!avsRegisteredMetadata[avs]) revert NonexistentAVSMetadata();
        for (uint256 p = 0; p < params.length; p++) {
            OperatorSet memory set = OperatorSet(avs, params[p].operatorSetId);
            bytes32 key = _key(set);
            if (_setExists[key]) revert InvalidOperatorSet();
            _setExists[key] = true;
            emit OperatorSetCreated(set);
            for (uint256 i = 0; i < params[p].strategies.length; i++) {
                IStrategy s = params[p].strategies[i];
                if (_setHasStrategy[key][s]) revert InvalidOperatorSet();
                _setHasStrategy[key][s] = true;
                _setStrategies[key].push(s);
                emit StrategyAddedToOperatorSet(set, s);
            }
        }
    }

    function setAVSRegistrar(address avs, IAVSRegistrar registrar) external {
        if (msg.sender != avs) revert InvalidCaller();
        if (!registrar.supportsAVS(avs)) revert InvalidAVSRegistrar();
        _registrar[avs] = registrar;
        emit AVSRegistrarSet(avs, registrar);
    }

    function slashOperator(address avs, SlashingParams calldata params) external returns (uint256 slashId, uint256[] memory shares) {
        if (msg.sender != avs) revert InvalidCaller();
        OperatorSet memory set = OperatorSet(avs, params.operatorSetId);
        bytes32 key = _key(set);
        if (!_setExists[key]) revert InvalidOperatorSet();
        if (!isOperatorSlashable(params.operator, set)) revert OperatorNotSlashable();
        if (params.strategies.length != params.wadsToSlash.length) revert InputArrayLengthMismatch();
        shares = new uint256[](params.strategies.length);
        for (uint256 i = 0; i < params.strategies.length; i++) {
            IStrategy s = params.strategies[i];
            if (i > 0 && address(s) <= address(params.strategies[i - 1])) revert StrategiesMustBeInAscendingOrder();
            uint256 wad = params.wadsToSlash[i];
            if (wad == 0 || wad > WAD) revert InvalidWadToSlash();
            if (!_setHasStrategy[key][s]) revert StrategyNotInOperatorSet();
            shares[i] = _slash(params.operator, set, key, s, wad);
        }
        slashId = ++_slashCount[key];
        emit OperatorSlashed(params.operator, set, params.strategies, params.wadsToSlash, params.description);
    }

    /// Takes wad of the allocation's current magnitude (rounded up) from the allocation, the
    /// encumbered and the max magnitude, shrinks a pending deallocation alike, and has the
    /// delegation manager burn the same fraction of the operator's shares. A zero allocation is skipped.
    function _slash(address op, OperatorSet memory set, bytes32 key, IStrategy s, uint256 wad) private returns (uint256) {
        _clearQueue(op, s, type(uint16).max); // due deallocations free their magnitude first
        Allocation memory a = _settled(op, key, s);
        if (a.currentMagnitude == 0) return 0;
        uint64 cut = uint64((uint256(a.currentMagnitude) * wad + WAD - 1) / WAD);
        uint64 prevMax = getMaxMagnitude(op, s);
        a.currentMagnitude -= cut;
        if (a.pendingDiff < 0) {
            // the deallocation still pending shrinks in proportion
            uint256 pending = uint256(uint128(-a.pendingDiff));
            a.pendingDiff = -int128(uint128(pending - (pending * wad) / WAD));
        }
        _allocations[op][key][s] = a;
        encumberedMagnitude[op][s] -= cut;
        _lostMagnitude[op][s] += cut;
        emit AllocationUpdated(op, set, s, a.currentMagnitude, uint32(block.number));
        emit EncumberedMagnitudeUpdated(op, s, encumberedMagnitude[op][s]);
        emit MaxMagnitudeUpdated(op, s, prevMax - cut);
        return delegation.slashOperatorShares(op, s, prevMax, prevMax - cut);
    }

    // --- operator side ---

    /// From the delegation manager at operator registration: in force at once. From the operator
    /// later: in force after ALLOCATION_CONFIGURATION_DELAY blocks.
    function setAllocationDelay(address operator, uint32 delay) external {
        DelayInfo storage d = _delay[operator];
        _applyPendingDelay(d);
        if (msg.sender == address(delegation)) {
            d.delay = delay;
            d.isSet = true;
            d.pendingDelay = delay;
            d.effectBlock = uint32(block.number);
        } else {
            if (msg.sender != operator || !delegation.isOperator(operator)) revert InvalidCaller();
            d.pendingDelay = delay;
            d.effectBlock = uint32(block.number) + ALLOCATION_CONFIGURATION_DELAY + 1;
        }
        emit AllocationDelaySet(operator, delay, d.effectBlock);
    }

    function modifyAllocations(address operator, AllocateParams[] calldata params) external {
        if (msg.sender != operator) revert InvalidCaller();
        (bool isSet, uint32 delay) = getAllocationDelay(operator);
        if (!isSet) revert UninitializedAllocationDelay();
        for (uint256 p = 0; p < params.length; p++) {
            AllocateParams calldata ap = params[p];
            if (ap.strategies.length != ap.newMagnitudes.length) revert InputArrayLengthMismatch();
            bytes32 key = _key(ap.operatorSet);
            if (!_setExists[key]) revert InvalidOperatorSet();
            for (uint256 i = 0; i < ap.strategies.length; i++) {
                _modify(operator, ap.operatorSet, key, ap.strategies[i], ap.newMagnitudes[i], delay);
            }
        }
    }

    function _modify(address op, OperatorSet calldata set, bytes32 key, IStrategy s, uint64 magnitude, uint32 delay) private {
        _clearQueue(op, s, type(uint16).max);
        Allocation memory a = _settled(op, key, s);
        if (a.pendingDiff != 0) revert ModificationAlreadyPending();
        if (magnitude == a.currentMagnitude) revert SameMagnitude();
        if (magnitude > a.currentMagnitude) {
            uint64 add = magnitude - a.currentMagnitude;
            if (encumberedMagnitude[op][s] + add > getMaxMagnitude(op, s)) revert InsufficientMagnitude();
            encumberedMagnitude[op][s] += add;
            a.pendingDiff = int128(uint128(add));
            a.effectBlock = uint32(block.number) + delay;
            emit EncumberedMagnitudeUpdated(op, s, encumberedMagnitude[op][s]);
        } else {
            uint64 sub = a.currentMagnitude - magnitude;
            if (isOperatorSlashable(op, set) && _setHasStrategy[key][s]) {
                // stays slashable until the delay has passed
                a.pendingDiff = -int128(uint128(sub));
                a.effectBlock = uint32(block.number) + DEALLOCATION_DELAY + 1;
                _deallocQueue[op][s].push(key);
            } else {
                a.currentMagnitude = magnitude;
                encumberedMagnitude[op][s] -= sub;
                emit EncumberedMagnitudeUpdated(op, s, encumberedMagnitude[op][s]);
            }
        }
        _allocations[op][key][s] = a;
        emit AllocationUpdated(op, set, s, magnitude, a.effectBlock == 0 ? uint32(block.number) : a.effectBlock);
    }

    function clearDeallocationQueue(address operator, IStrategy[] calldata strategies, uint16[] calldata numToClear) external {
        if (strategies.length != numToClear.length) revert InputArrayLengthMismatch();
        for (uint256 i = 0; i < strategies.length; i++) _clearQueue(operator, strategies[i], numToClear[i]);
    }

    /// Completes due deallocations in order: their magnitude leaves the encumbered magnitude.
    function _clearQueue(address op, IStrategy s, uint16 max) private {
        bytes32[] storage q = _deallocQueue[op][s];
        uint256 head = _deallocHead[op][s];
        uint256 cleared = 0;
        while (head < q.length && cleared < max) {
            Allocation memory a = _allocations[op][q[head]][s];
            if (a.pendingDiff < 0 && block.number < a.effectBlock) break;
            if (a.pendingDiff < 0) {
                uint64 sub = uint64(uint128(-a.pendingDiff));
                a.currentMagnitude -= sub;
                a.pendingDiff = 0;
                a.effectBlock = 0;
                _allocations[op][q[head]][s] = a;
                encumberedMagnitude[op][s] -= sub;
                emit EncumberedMagnitudeUpdated(op, s, encumberedMagnitude[op][s]);
            }
            head++;
            cleared++;
        }
        _deallocHead[op][s] = head;
    }

    function registerForOperatorSets(address operator, RegisterParams calldata params) external {
        if (msg.sender != operator) revert InvalidCaller();
        if (!delegation.isOperator(operator)) revert InvalidOperator();
        for (uint256 i = 0; i < params.operatorSetIds.length; i++) {
            OperatorSet memory set = OperatorSet(params.avs, params.operatorSetIds[i]);
            bytes32 key = _key(set);
            if (!_setExists[key]) revert InvalidOperatorSet();
            RegistrationStatus memory st = _status[operator][key];
            // a deregistered operator may return only once it is no longer slashable
            if (st.registered || block.number <= st.slashableUntil) revert AlreadyMemberOfSet();
            _status[operator][key] = RegistrationStatus(true, 0);
            _members[key].push(operator);
            _memberIndex[key][operator] = _members[key].length;
            emit OperatorAddedToOperatorSet(operator, set);
        }
        getAVSRegistrar(params.avs).registerOperator(operator, params.avs, params.operatorSetIds, params.data);
    }

    function deregisterFromOperatorSets(DeregisterParams calldata params) external {
        if (msg.sender != params.operator && msg.sender != params.avs) revert InvalidCaller();
        for (uint256 i = 0; i < params.operatorSetIds.length; i++) {
            OperatorSet memory set = OperatorSet(params.avs, params.operatorSetIds[i]);
            bytes32 key = _key(set);
            if (!_setExists[key]) revert InvalidOperatorSet();
            if (!_status[params.operator][key].registered) revert NotMemberOfSet();
            _status[params.operator][key] = RegistrationStatus(false, uint32(block.number) + DEALLOCATION_DELAY);
            _removeMember(key, params.operator);
            emit OperatorRemovedFromOperatorSet(params.operator, set);
        }
        getAVSRegistrar(params.avs).deregisterOperator(params.operator, params.avs, params.operatorSetIds);
    }

    function _removeMember(bytes32 key, address op) private {
        address[] storage m = _members[key];
        uint256 idx = _memberIndex[key][op] - 1;
        address last = m[m.length - 1];
        m[idx] = last;
        _memberIndex[key][last] = idx + 1;
        m.pop();
        delete _memberIndex[key][op];
    }

    // --- views ---

    /// Per operator and strategy: delegated shares × magnitude / max magnitude, where magnitude is
    /// the allocation in force now less any deallocation that takes effect by futureBlock (pending
    /// increases are not counted). Zero for an operator the set can no longer slash.
    function getMinimumSlashableStake(OperatorSet memory set, address[] memory operators, IStrategy[] memory strategies, uint32 futureBlock)
        external
        view
        returns (uint256[][] memory stake)
    {
        stake = _minimumAllocatedStake(set, operators, strategies, futureBlock);
        for (uint256 i = 0; i < operators.length; i++) {
            if (isOperatorSlashable(operators[i], set)) continue;
            for (uint256 j = 0; j < strategies.length; j++) stake[i][j] = 0;
        }
    }

    /// The stake allocated now, whether or not the set can still slash it.
    function getAllocatedStake(OperatorSet memory set, address[] memory operators, IStrategy[] memory strategies)
        external
        view
        returns (uint256[][] memory)
    {
        return _minimumAllocatedStake(set, operators, strategies, uint32(block.number));
    }

    function _minimumAllocatedStake(OperatorSet memory set, address[] memory operators, IStrategy[] memory strategies, uint32 futureBlock)
        private
        view
        returns (uint256[][] memory stake)
    {
        stake = new uint256[][](operators.length);
        bytes32 key = _key(set);
        for (uint256 i = 0; i < operators.length; i++) {
            stake[i] = new uint256[](strategies.length);
            uint256[] memory shares = delegation.getOperatorShares(operators[i], strategies);
            for (uint256 j = 0; j < strategies.length; j++) {
                Allocation memory a = _settled(operators[i], key, strategies[j]);
                uint256 mag = a.currentMagnitude;
                if (a.pendingDiff < 0 && a.effectBlock <= futureBlock) mag -= uint256(uint128(-a.pendingDiff));
                uint64 maxMag = getMaxMagnitude(operators[i], strategies[j]);
                if (maxMag > 0) stake[i][j] = (shares[j] * mag) / maxMag;
            }
        }
    }

    function getAllocation(address operator, OperatorSet memory set, IStrategy strategy) external view returns (Allocation memory) {
        return _settled(operator, _key(set), strategy);
    }

    function getAllocationDelay(address operator) public view returns (bool, uint32) {
        DelayInfo memory d = _delay[operator];
        if (d.effectBlock != 0 && block.number >= d.effectBlock) return (true, d.pendingDelay);
        return (d.isSet, d.delay);
    }

    function isOperatorSlashable(address operator, OperatorSet memory set) public view returns (bool) {
        RegistrationStatus memory st = _status[operator][_key(set)];
        return st.registered || block.number <= st.slashableUntil;
    }

    function isMemberOfOperatorSet(address operator, OperatorSet memory set) external view returns (bool) {
        return _status[operator][_key(set)].registered;
    }

    function getMembers(OperatorSet memory set) external view returns (address[] memory) {
        return _members[_key(set)];
    }

    function getMemberCount(OperatorSet memory set) external view returns (uint256) {
        return _members[_key(set)].length;
    }

    function getStrategiesInOperatorSet(OperatorSet memory set) external view returns (IStrategy[] memory) {
        return _setStrategies[_key(set)];
    }

    function isOperatorSet(OperatorSet memory set) external view returns (bool) {
        return _setExists[_key(set)];
    }

    /// The AVS itself when it named no registrar.
    function getAVSRegistrar(address avs) public view returns (IAVSRegistrar) {
        IAVSRegistrar r = _registrar[avs];
        return address(r) == address(0) ? IAVSRegistrar(avs) : r;
    }

    function getMaxMagnitude(address operator, IStrategy strategy) public view returns (uint64) {
        return WAD - _lostMagnitude[operator][strategy];
    }

    function getSlashCount(OperatorSet memory set) external view returns (uint256) {
        return _slashCount[_key(set)];
    }

    /// The allocation with a pending change applied once its effect block is reached.
    function _settled(address op, bytes32 key, IStrategy s) private view returns (Allocation memory a) {
        a = _allocations[op][key][s];
        if (a.pendingDiff != 0 && block.number >= a.effectBlock) {
            a.currentMagnitude = uint64(uint128(int128(uint128(a.currentMagnitude)) + a.pendingDiff));
            a.pendingDiff = 0;
            a.effectBlock = 0;
        }
    }

    function _applyPendingDelay(DelayInfo storage d) private {
        if (d.effectBlock != 0 && block.number >= d.effectBlock) {
            d.delay = d.pendingDelay;
            d.isSet = true;
        }
    }

    function _key(OperatorSet memory set) private pure returns (bytes32) {
        return bytes32(abi.encodePacked(set.avs, uint96(set.id)));
    }
}
