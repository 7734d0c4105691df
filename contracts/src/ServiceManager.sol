// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager, IAVSRegistrar, IStrategy} from "./EigenInterfaces.sol";
import {Groth16Key} from "./Groth16Key.sol";
import {ReentrancyGuard} from "./ReentrancyGuard.sol";

/// The AVS: its address is the AVS's identity in EigenLayer's AllocationManager (metadata, operator
/// set 0, registrar, slasher). It keeps the registry of models (modelId → verification key, vkHash,
/// public signal count; a sliced model → its slices' modelIds in order), pull-based rewards, and the
/// bounty reserve that pays challengers.
contract ServiceManager is ReentrancyGuard {
    /// key (the contract holding the verification key, see Groth16Key) and numPublic share one
    /// slot: settlement reads a single word. vkHash = keccak256 of the key's bytes.
    struct Model {
        address key;
        uint8 numPublic;
        bytes32 vkHash;
    }

    address public immutable owner;
    IAllocationManager public immutable allocationManager;
    address public registrar;
    address public taskManager;
    /// Wei set aside for challengers' bounties: funded by anyone and by lost challenge bonds.
    uint256 public bountyReserve;
    mapping(bytes32 => Model) private _models;
    /// A sliced model's slices, in proving order; each slice is a registered model of its own.
    mapping(bytes32 => bytes32[]) private _slices;
    /// Slices per sliced model: bounds the gas of settling one (a pairing check per slice).
    uint256 public constant MAX_SLICES = 16;
    mapping(address => uint256) private _balance;

    event ModelRegistered(bytes32 indexed modelId, address key, bytes32 vkHash, uint8 numPublic);
    event SlicedModelRegistered(bytes32 indexed modelId, bytes32[] slices);
    event Accrued(address indexed beneficiary, uint256 amount);
    event Claimed(address indexed beneficiary, uint256 amount);
    event BountyFunded(address indexed from, uint256 amount);
    event BountyPaid(address indexed to, uint256 amount);

    error NotOwner();
    error NotTaskManager();
    error AlreadyWired();
    error ModelExists();
    error BadModel();
    error UnknownSlice(bytes32 sliceId);
    error NothingToClaim();
    error TransferFailed();

    constructor(IAllocationManager allocationManager_) {
        owner = msg.sender;
        allocationManager = allocationManager_;
    }

    /// One-time: registers the AVS with the AllocationManager (metadata, then operator set 0 over
    /// `strategies`, whose slasher is this contract, then the registrar) and names the task manager,
    /// the only contract this AVS slashes for.
    function initializeAVS(string calldata metadataURI, IStrategy[] calldata strategies, IAVSRegistrar registrar_, address taskManager_)
        external
    {
        if (msg.sender != owner) revert NotOwner();
        if (taskManager != address(0)) revert AlreadyWired();
        registrar = address(registrar_);
        taskManager = taskManager_;
        allocationManager.updateAVSMetadataURI(address(this), metadataURI);
        IAllocationManager.CreateSetParams[] memory sets = new IAllocationManager.CreateSetParams[](1);
        sets[0] = IAllocationManager.CreateSetParams(0, strategies);
        allocationManager.createOperatorSets(address(this), sets);
        allocationManager.setAVSRegistrar(address(this), registrar_);
    }

    function updateAVSMetadataURI(string calldata metadataURI) external {
        if (msg.sender != owner) revert NotOwner();
        allocationManager.updateAVSMetadataURI(address(this), metadataURI);
    }

    /// The AVS is its operator set's slasher: the task manager slashes through it.
    function slashOperator(IAllocationManager.SlashingParams calldata params) external returns (uint256 slashId, uint256[] memory shares) {
        if (msg.sender != taskManager) revert NotTaskManager();
        return allocationManager.slashOperator(address(this), params);
    }

    /// Registers a model by its verification key (Groth16Key's layout): the key is written once as
    /// a key contract and its hash computed here, so the registered vkHash is always the hash of
    /// the key that verifies the model's proofs. The public signal count follows from its length.
    function registerModel(bytes32 modelId, bytes calldata vk) external returns (address key) {
        if (msg.sender != owner) revert NotOwner();
        if (_models[modelId].key != address(0) || _slices[modelId].length != 0) revert ModelExists();
        uint256 numPublic = Groth16Key.numPublicOf(vk.length);
        // public signals end with inputHash and binding; numPublic sizes a uint8
        if (numPublic < 2 || numPublic > type(uint8).max) revert BadModel();
        bytes memory init = Groth16Key.creationCode(vk);
        assembly {
            key := create(0, add(init, 32), mload(init))
        }
        if (key == address(0)) revert BadModel();
        bytes32 vkHash = keccak256(vk);
        _models[modelId] = Model(key, uint8(numPublic), vkHash);
        emit ModelRegistered(modelId, key, vkHash, uint8(numPublic));
    }

    /// Registers a model cut into slices (each already registered by its key). Its modelId is
    /// computed here as zkinfer names a sliced model off chain, sha256 of "zkinfer-sliced:" and the
    /// slices' modelIds in lowercase hex joined by commas, so it can name no other slices.
    function registerSlicedModel(bytes32[] calldata slices) external returns (bytes32 modelId) {
        if (msg.sender != owner) revert NotOwner();
        if (slices.length < 2 || slices.length > MAX_SLICES) revert BadModel();
        for (uint256 i = 0; i < slices.length; i++) {
            if (_models[slices[i]].key == address(0)) revert UnknownSlice(slices[i]);
        }
        modelId = slicedModelId(slices);
        if (_models[modelId].key != address(0) || _slices[modelId].length != 0) revert ModelExists();
        _slices[modelId] = slices;
        emit SlicedModelRegistered(modelId, slices);
    }

    function slicedModelId(bytes32[] calldata slices) public pure returns (bytes32) {
        bytes memory text = "zkinfer-sliced:";
        for (uint256 i = 0; i < slices.length; i++) {
            text = abi.encodePacked(text, i == 0 ? "" : ",", _hex(slices[i]));
        }
        return sha256(text);
    }

    /// A sliced model's slices in order; empty for a model proven in one circuit or none.
    function slicesOf(bytes32 modelId) external view returns (bytes32[] memory) {
        return _slices[modelId];
    }

    function _hex(bytes32 v) private pure returns (bytes memory out) {
        bytes16 digits = "0123456789abcdef";
        out = new bytes(64);
        for (uint256 i = 0; i < 32; i++) {
            out[2 * i] = digits[uint8(v[i]) >> 4];
            out[2 * i + 1] = digits[uint8(v[i]) & 0x0f];
        }
    }

    function modelOf(bytes32 modelId) external view returns (address key, bytes32 vkHash, uint8 numPublic) {
        Model memory m = _models[modelId];
        return (m.key, m.vkHash, m.numPublic);
    }

    function verifierOf(bytes32 modelId) external view returns (address key, uint8 numPublic) {
        Model storage m = _models[modelId];
        return (m.key, m.numPublic);
    }

    /// Balances are kept at 1 wei minimum (a "dust" slot): crediting a non-zero slot costs 5k gas
    /// instead of 20k. `claimable` reports the real amount.
    function accrue(address beneficiary) external payable {
        if (msg.sender != taskManager) revert NotTaskManager();
        _credit(beneficiary, msg.value);
    }

    function fundBounty() external payable {
        bountyReserve += msg.value;
        emit BountyFunded(msg.sender, msg.value);
    }

    /// Credits `amount` (or what the reserve holds, if less) to a successful challenger.
    function payBounty(address to, uint256 amount) external returns (uint256 paid) {
        if (msg.sender != taskManager) revert NotTaskManager();
        paid = amount < bountyReserve ? amount : bountyReserve;
        bountyReserve -= paid;
        emit BountyPaid(to, paid);
        if (paid > 0) _credit(to, paid);
    }

    /// Pre-warms a beneficiary's slot (called for operators at registration, by anyone).
    function touch(address beneficiary) external {
        if (_balance[beneficiary] == 0) _balance[beneficiary] = 1;
    }

    function claimable(address who) public view returns (uint256) {
        uint256 held = _balance[who];
        return held == 0 ? 0 : held - 1;
    }

    function claim() external nonReentrant {
        uint256 amount = claimable(msg.sender);
        if (amount == 0) revert NothingToClaim();
        _balance[msg.sender] = 1;
        emit Claimed(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    function _credit(address beneficiary, uint256 amount) private {
        uint256 held = _balance[beneficiary];
        _balance[beneficiary] = (held == 0 ? 1 : held) + amount;
        emit Accrued(beneficiary, amount);
    }
}
