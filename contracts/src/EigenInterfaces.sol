// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// EigenLayer core's external interface (slashing release), as far as zkinfer calls it, written from
// EigenLayer's published documentation and function signatures. The AVS contracts call only what is
// declared here, so they work unchanged against EigenLayer's deployed core or the local mirror.

import {IERC20} from "./Interfaces.sol";

/// An operator set: an AVS's group of operators, with the strategies it can slash.
struct OperatorSet {
    address avs;
    uint32 id;
}

interface IStrategy {
    function underlyingToken() external view returns (IERC20);
}

/// The AVS's registrar, called by the AllocationManager when operators join or leave its sets.
interface IAVSRegistrar {
    function registerOperator(address operator, address avs, uint32[] calldata operatorSetIds, bytes calldata data) external;
    function deregisterOperator(address operator, address avs, uint32[] calldata operatorSetIds) external;
    function supportsAVS(address avs) external view returns (bool);
}

interface IAllocationManager {
    struct RegisterParams {
        address avs;
        uint32[] operatorSetIds;
        bytes data;
    }

    struct DeregisterParams {
        address operator;
        address avs;
        uint32[] operatorSetIds;
    }

    struct CreateSetParams {
        uint32 operatorSetId;
        IStrategy[] strategies;
    }

    struct AllocateParams {
        OperatorSet operatorSet;
        IStrategy[] strategies;
        uint64[] newMagnitudes;
    }

    struct Allocation {
        uint64 currentMagnitude;
        int128 pendingDiff;
        uint32 effectBlock;
    }

    /// strategies ascending; each wad in (0, 1e18], a share of the operator's allocation to the set.
    struct SlashingParams {
        address operator;
        uint32 operatorSetId;
        IStrategy[] strategies;
        uint256[] wadsToSlash;
        string description;
    }

    event OperatorSlashed(address operator, OperatorSet operatorSet, IStrategy[] strategies, uint256[] wadSlashed, string description);

    // --- AVS side ---
    function updateAVSMetadataURI(address avs, string calldata metadataURI) external;
    function createOperatorSets(address avs, CreateSetParams[] calldata params) external;
    function setAVSRegistrar(address avs, IAVSRegistrar registrar) external;
    function slashOperator(address avs, SlashingParams calldata params) external returns (uint256 slashId, uint256[] memory shares);

    // --- operator side ---
    function modifyAllocations(address operator, AllocateParams[] calldata params) external;
    function clearDeallocationQueue(address operator, IStrategy[] calldata strategies, uint16[] calldata numToClear) external;
    function registerForOperatorSets(address operator, RegisterParams calldata params) external;
    function deregisterFromOperatorSets(DeregisterParams calldata params) external;
    function setAllocationDelay(address operator, uint32 delay) external;

    // --- views ---
    function DEALLOCATION_DELAY() external view returns (uint32);
    function getMinimumSlashableStake(OperatorSet memory operatorSet, address[] memory operators, IStrategy[] memory strategies, uint32 futureBlock)
        external
        view
        returns (uint256[][] memory slashableStake);
    function getAllocatedStake(OperatorSet memory operatorSet, address[] memory operators, IStrategy[] memory strategies)
        external
        view
        returns (uint256[][] memory slashableStake);
    function getAllocation(address operator, OperatorSet memory operatorSet, IStrategy strategy) external view returns (Allocation memory);
    function isOperatorSlashable(address operator, OperatorSet memory operatorSet) external view returns (bool);
    function isMemberOfOperatorSet(address operator, OperatorSet memory operatorSet) external view returns (bool);
    function getMembers(OperatorSet memory operatorSet) external view returns (address[] memory);
    function getMemberCount(OperatorSet memory operatorSet) external view returns (uint256);
    function getStrategiesInOperatorSet(OperatorSet memory operatorSet) external view returns (IStrategy[] memory);
    function isOperatorSet(OperatorSet memory operatorSet) external view returns (bool);
    function getAVSRegistrar(address avs) external view returns (IAVSRegistrar);
    function getMaxMagnitude(address operator, IStrategy strategy) external view returns (uint64);
}

interface IStrategyManager {
    function depositIntoStrategy(IStrategy strategy, IERC20 token, uint256 amount) external returns (uint256 depositShares);
}

interface IDelegationManager {
    struct QueuedWithdrawalParams {
        IStrategy[] strategies;
        uint256[] depositShares;
        address __deprecated_withdrawer;
    }

    struct Withdrawal {
        address staker;
        address delegatedTo;
        address withdrawer;
        uint256 nonce;
        uint32 startBlock;
        IStrategy[] strategies;
        uint256[] scaledShares;
    }

    function registerAsOperator(address initDelegationApprover, uint32 allocationDelay, string calldata metadataURI) external;
    function queueWithdrawals(QueuedWithdrawalParams[] calldata params) external returns (bytes32[] memory);
    function completeQueuedWithdrawal(Withdrawal calldata withdrawal, IERC20[] calldata tokens, bool receiveAsTokens) external;
    function isOperator(address operator) external view returns (bool);
    function getOperatorShares(address operator, IStrategy[] memory strategies) external view returns (uint256[] memory);
    function minWithdrawalDelayBlocks() external view returns (uint32);
}
