"""zkinfer's synapses for Bittensor's Python SDK.

A validator written with the SDK queries a zkinfer miner with these classes:

    import bittensor as bt
    from zkinfer_synapses import ProveInference, Binding

    synapse = ProveInference(
        modelId=model_id,
        input=[0.0] * 784,
        binding=Binding(nonce="...", validatorHotkey=wallet.hotkey.ss58_address, minerHotkey=axon.hotkey),
        deadlineMs=10_000,
    )
    answer = await bt.Dendrite(wallet)(axon, synapse, timeout=12.0, deserialize=False)
    # answer.proof, answer.publicSignals, answer.outputs, answer.predictedClass

`required_hash_fields` puts the model, the input, the binding and the deadline under the dendrite's
signature; the miner recomputes the SDK's body hash over them and refuses the request if it differs.

Without the SDK installed, the classes sit on a stand-in base with the SDK's public field layout
(name, timeout, total_size, header_size, dendrite, axon, computed_body_hash) and body hash rule,
written from the SDK's documentation, so requests can be built and checked offline.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, Optional

import pydantic

try:  # the real SDK when present
    import bittensor as bt

    SynapseBase = bt.Synapse
except ImportError:  # a stand-in with the same dumped layout and body hash

    class TerminalInfo(pydantic.BaseModel):
        status_code: Optional[int] = None
        status_message: Optional[str] = None
        process_time: Optional[float] = None
        ip: Optional[str] = None
        port: Optional[int] = None
        version: Optional[int] = None
        nonce: Optional[int] = None
        uuid: Optional[str] = None
        hotkey: Optional[str] = None
        signature: Optional[str] = None

    class SynapseBase(pydantic.BaseModel):  # type: ignore[no-redef]
        name: Optional[str] = None
        timeout: Optional[float] = 12.0
        total_size: Optional[int] = 0
        header_size: Optional[int] = 0
        dendrite: Optional[TerminalInfo] = TerminalInfo()
        axon: Optional[TerminalInfo] = TerminalInfo()
        computed_body_hash: Optional[str] = ""

        required_hash_fields: ClassVar[tuple[str, ...]] = ()

        def __init__(self, **data: Any) -> None:
            super().__init__(**data)
            self.name = self.__class__.__name__

        @property
        def body_hash(self) -> str:
            dumped = self.model_dump()
            parts = [hashlib.sha3_256(str(dumped[f]).encode()).hexdigest() for f in self.required_hash_fields]
            return hashlib.sha3_256("".join(parts).encode()).hexdigest()


class Binding(pydantic.BaseModel):
    """What the proof is bound to: the challenge nonce, the validator and the miner."""

    nonce: str
    validatorHotkey: str
    minerHotkey: str


class ProveInference(SynapseBase):
    """Prove that the model `modelId` gives its outputs on `input`, bound to `binding`."""

    required_hash_fields: ClassVar[tuple[str, ...]] = ("modelId", "input", "binding", "deadlineMs")

    modelId: str
    input: list[float]
    binding: Binding
    deadlineMs: int = 10_000

    # the miner's answer
    proof: Optional[dict[str, Any]] = None
    publicSignals: Optional[list[str]] = None
    outputs: Optional[list[float]] = None
    predictedClass: Optional[int] = None
    slices: Optional[list[dict[str, Any]]] = None
    timings: Optional[dict[str, Any]] = None


class Capacity(SynapseBase):
    """What a miner serves and how busy it is."""

    hotkey: Optional[str] = None
    models: Optional[list[dict[str, Any]]] = None
    workers: Optional[int] = None
    queueDepth: Optional[int] = None
    maxQueue: Optional[int] = None
