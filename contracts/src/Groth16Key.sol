// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// Groth16 over BN254 against a verification key kept on chain as the runtime code of a key
/// contract: a 0x00 byte (calling it stops at once) followed by the key. The registry writes the
/// key once and records its keccak as the model's vkHash, so the key that verifies a model's proofs
/// is, by construction, the key whose hash is registered.
///
/// Key layout, in 32-byte words: alpha1 (x, y); beta2, gamma2, delta2 each as (x1, x0, y1, y0),
/// the order the pairing precompile takes; then IC[0..n] as (x, y), for n public signals.
library Groth16Key {
    /// BN254 base field (coordinates) and scalar field (public signals).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 private constant HEAD_WORDS = 14;

    /// Words of a key for `numPublic` public signals.
    function words(uint256 numPublic) internal pure returns (uint256) {
        return HEAD_WORDS + 2 * (numPublic + 1);
    }

    /// Public signals a key of `length` bytes serves; 0 when no key has that length.
    function numPublicOf(uint256 length) internal pure returns (uint256) {
        if (length % 64 != 0 || length < 32 * words(1)) return 0;
        return (length / 32 - HEAD_WORDS) / 2 - 1;
    }

    /// Init code that deploys 0x00 ‖ key: PUSH2 size, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY,
    /// RETURNDATASIZE, RETURN (copies the 10 bytes' tail to memory 0 and returns it).
    function creationCode(bytes calldata key) internal pure returns (bytes memory) {
        return abi.encodePacked(hex"61", uint16(key.length + 1), hex"80600a3d393df3", hex"00", key);
    }

    /// True when (a, b, c) is a valid proof of `pub` under the key at `key`. b is in the
    /// precompile's order ((x1, x0), (y1, y0)), as snarkjs's Solidity call data gives it.
    function verify(address key, uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c, uint256[] calldata pub)
        internal
        view
        returns (bool)
    {
        uint256 size = 32 * words(pub.length);
        if (key.code.length != size + 1) return false;
        bytes memory vk = new bytes(size);
        assembly {
            extcodecopy(key, add(vk, 32), 1, size)
        }
        // vk_x = IC[0] + Σ pub[i]·IC[i+1]
        uint256[4] memory acc; // (x, y) of the sum, then (x, y) of the next term: ecAdd's input
        uint256[3] memory term; // (x, y, scalar): ecMul's input
        acc[0] = _word(vk, HEAD_WORDS);
        acc[1] = _word(vk, HEAD_WORDS + 1);
        bool ok = true;
        for (uint256 i = 0; i < pub.length; i++) {
            if (pub[i] >= R) return false;
            term[0] = _word(vk, HEAD_WORDS + 2 + 2 * i);
            term[1] = _word(vk, HEAD_WORDS + 3 + 2 * i);
            term[2] = pub[i];
            assembly {
                ok := and(ok, staticcall(gas(), 0x07, term, 96, add(acc, 64), 64))
                ok := and(ok, staticcall(gas(), 0x06, acc, 128, acc, 64))
            }
        }
        if (!ok) return false;
        // e(−A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta) = 1
        uint256[24] memory input;
        input[0] = a[0];
        input[1] = (Q - (a[1] % Q)) % Q;
        input[2] = b[0][0];
        input[3] = b[0][1];
        input[4] = b[1][0];
        input[5] = b[1][1];
        for (uint256 j = 0; j < 6; j++) input[6 + j] = _word(vk, j); // alpha1, beta2
        input[12] = acc[0];
        input[13] = acc[1];
        for (uint256 j = 0; j < 4; j++) input[14 + j] = _word(vk, 6 + j); // gamma2
        input[18] = c[0];
        input[19] = c[1];
        for (uint256 j = 0; j < 4; j++) input[20 + j] = _word(vk, 10 + j); // delta2
        uint256[1] memory out;
        assembly {
            ok := staticcall(gas(), 0x08, input, 768, out, 32)
        }
        return ok && out[0] == 1;
    }

    function _word(bytes memory vk, uint256 i) private pure returns (uint256 w) {
        assembly {
            w := mload(add(vk, add(32, mul(32, i))))
        }
    }
}
