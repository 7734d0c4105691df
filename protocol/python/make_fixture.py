"""Writes test/fixtures/sdk-requests.json: ProveInference requests as the SDK's dendrite builds them.

For each case: the synapse's body as the dendrite sends it (json.dumps of model_dump(), aiohttp's
default encoder) and the SDK body hash its computed_body_hash header carries. Python's float repr
and str() of lists and dicts are what the TypeScript side must reproduce, so the cases hold floats
that print in fixed and in exponent form, negative zero, integers in a float list and quotes in
strings. The dendrite signature inside the body is a placeholder: signing needs the sr25519 key,
and the test signs with its own.

    python3 protocol/python/make_fixture.py > test/fixtures/sdk-requests.json
"""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from zkinfer_synapses import Binding, Capacity, ProveInference  # noqa: E402

try:
    import bittensor as bt

    TerminalInfo = bt.TerminalInfo
except ImportError:
    from zkinfer_synapses import TerminalInfo  # type: ignore[attr-defined,no-redef]  # noqa: E402

PLACEHOLDER_SIGNATURE = "0x" + "ab" * 64
MODEL = "9f" * 32
VALIDATOR = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
MINER = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"


def request(synapse, nonce: int, uuid: str, timeout: float) -> dict:
    synapse.timeout = timeout
    synapse.dendrite = TerminalInfo(ip="127.0.0.1", version=920, nonce=nonce, uuid=uuid, hotkey=VALIDATOR)
    synapse.axon = TerminalInfo(ip="127.0.0.1", port=8091, hotkey=MINER)
    synapse.dendrite.signature = PLACEHOLDER_SIGNATURE
    dumped = synapse.model_dump()
    return {
        "values": {k: v for k, v in dumped.items() if k in type(synapse).model_fields and k not in BASE},
        "timeout": timeout,
        "nonce": str(nonce),
        "uuid": uuid,
        "body": json.dumps(dumped),
        "body_hash": synapse.body_hash,
        "hashed_str": {f: str(dumped[f]) for f in type(synapse).required_hash_fields},
    }


BASE = {"name", "timeout", "total_size", "header_size", "dendrite", "axon", "computed_body_hash"}

cases = [
    ProveInference(
        modelId=MODEL,
        input=[0.0, 1, -0.0, 0.1, 1e-05, 0.0001, 1e16, 1.5e15, 123456789.125, -2.5e-07, 5e-324, 1.7976931348623157e308],
        binding=Binding(nonce="0x01", validatorHotkey=VALIDATOR, minerHotkey=MINER),
        deadlineMs=12000,
    ),
    ProveInference(
        modelId=MODEL,
        input=[0.5] * 3 + [-3.25, 100.0, 1e22, 0.3333333333333333],
        binding=Binding(nonce="it's \"quoted\"\\", validatorHotkey=VALIDATOR, minerHotkey="caf\u00e9\t"),
    ),
    Capacity(),
]

# repr() of doubles across the whole exponent range, both notations and the boundaries between them
rng = random.Random(20261201)
floats = [repr(rng.uniform(-1, 1) * 10.0 ** rng.randint(-320, 308)) for _ in range(200)]
floats += [repr(rng.uniform(-1, 1) * 10.0 ** rng.randint(-7, 19)) for _ in range(200)]
floats += [repr(x) for x in (1e-4, 9.999e-5, 1e15, 9999999999999998.0, 1e16, 2.0**53, 2.0**-1074, 0.1 + 0.2, 100.0, 1e21)]

out = {
    "about": (
        "ProveInference and Capacity requests as Bittensor's Python dendrite sends them, made by "
        "protocol/python/make_fixture.py with pydantic " + __import__("pydantic").VERSION + ": body is "
        "json.dumps(synapse.model_dump()), body_hash the SDK's body hash over required_hash_fields. "
        "The signature in the body is a placeholder."
    ),
    "placeholder_signature": PLACEHOLDER_SIGNATURE,
    "dendrite": {"ip": "127.0.0.1", "version": 920, "hotkey": VALIDATOR},
    "axon": {"ip": "127.0.0.1", "port": 8091, "hotkey": MINER},
    "float_reprs": floats,
    "cases": [
        {"synapse": type(s).__name__, **request(s, 1764600000123456789 + i, f"0b6e3f7a-cf0e-11f0-8de9-0242ac1{i}0002", 12.0 + i / 2)}
        for i, s in enumerate(cases)
    ],
}
json.dump(out, sys.stdout, indent=2)
sys.stdout.write("\n")
