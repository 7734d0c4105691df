pragma circom 2.1.0;

// zkinfer's template library. Invariant for every template: the outputs are uniquely determined by
// the inputs whenever the inputs satisfy the stated static bounds (which the compiler proves).
// Hints (<--) are always pinned by constraints (===, <==); an assert would not be a constraint.

// Bits(n): out are the n little-endian bits of in. Proves 0 <= in < 2^n. n constraints.
template Bits(n) {
    signal input in;
    signal output out[n];
    var sum = 0;
    var e = 1;
    for (var i = 0; i < n; i++) {
        out[i] <-- (in >> i) & 1;
        out[i] * (out[i] - 1) === 0;
        sum += out[i] * e;
        e = e + e;
    }
    sum === in;
}

// Rescale(b, k): out = floor(in / 2^k) for -2^b <= in < 2^b (k <= b). b + 1 constraints.
// The remainder (bits 0..k-1) and the quotient come from one decomposition of in + 2^b.
template Rescale(b, k) {
    signal input in;
    signal output out;
    signal bits[b + 1] <== Bits(b + 1)(in + (1 << b));
    var q = 0;
    for (var i = k; i <= b; i++) q += bits[i] * (1 << (i - k));
    out <== q - (1 << (b - k));
}

// RescaleRelu(b, k): out = max(0, floor(in / 2^k)) for -2^b <= in < 2^b (k <= b). b + 2 constraints.
// Bit b of in + 2^b is 1 exactly when in >= 0; then bits 0..b-1 are in itself.
template RescaleRelu(b, k) {
    signal input in;
    signal output out;
    signal bits[b + 1] <== Bits(b + 1)(in + (1 << b));
    var q = 0;
    for (var i = k; i < b; i++) q += bits[i] * (1 << (i - k));
    out <== bits[b] * q;
}

// RescaleUnsigned(b, k): out = floor(in / 2^k) for 0 <= in < 2^b (k <= b). b constraints.
template RescaleUnsigned(b, k) {
    signal input in;
    signal output out;
    signal bits[b] <== Bits(b)(in);
    var q = 0;
    for (var i = k; i < b; i++) q += bits[i] * (1 << (i - k));
    out <== q;
}

// MaxHint(n, b): out = max(in) when max(in) - min(in) < 2^b. n*b + n - 1 constraints.
// The prover supplies the max; the circuit checks out - in[i] >= 0 for all i (a b-bit range check)
// and that out equals one of them (the product of the differences is zero).
template MaxHint(n, b) {
    signal input in[n];
    signal output out;
    var m = in[0];
    for (var i = 1; i < n; i++) {
        if (in[i] > m) m = in[i];
    }
    out <-- m;
    signal prod[n];
    prod[0] <== out - in[0];
    for (var i = 0; i < n; i++) {
        if (i > 0) prod[i] <== prod[i - 1] * (out - in[i]);
        _ <== Bits(b)(out - in[i]);
    }
    prod[n - 1] === 0;
}

// ArgMaxHint(n, b): out = the first index of the max of in, when max(in) - min(in) < 2^b.
// 2n + n*b constraints. A one-hot selector names the index; with m the selected value,
// m - in[i] - [i < out] >= 0 for all i proves in[out] is the max and nothing before it ties.
template ArgMaxHint(n, b) {
    signal input in[n];
    signal output out;
    var best = 0;
    for (var i = 1; i < n; i++) {
        if (in[i] > in[best]) best = i;
    }
    signal sel[n];
    signal picked[n];
    var count = 0;
    var m = 0;
    var index = 0;
    for (var i = 0; i < n; i++) {
        sel[i] <-- i == best ? 1 : 0;
        sel[i] * (sel[i] - 1) === 0;
        picked[i] <== sel[i] * in[i];
        count += sel[i];
        m += picked[i];
        index += i * sel[i];
    }
    count === 1;
    var after = 0; // = 1 when the selected index is greater than i
    for (var i = n - 1; i >= 0; i--) {
        _ <== Bits(b)(m - in[i] - after);
        after += sel[i];
    }
    out <== index;
}

// PackInputs(n, bits, min, per): range-checks min <= in[i] < min + 2^bits and packs per values
// into each limb, little-endian: limb[j] = sum (in[i] - min) * 2^(bits * (i - j*per)).
// per * bits <= 253 keeps each limb below the field modulus, so packing is injective.
template PackInputs(n, bits, min, per) {
    signal input in[n];
    signal output limbs[(n + per - 1) \ per];
    for (var j = 0; j * per < n; j++) {
        var acc = 0;
        for (var i = j * per; i < n && i < (j + 1) * per; i++) {
            _ <== Bits(bits)(in[i] - min);
            acc += (in[i] - min) * (1 << (bits * (i - j * per)));
        }
        limbs[j] <== acc;
    }
}

// PiecewiseQuad(B, k, M, s, g, bP, A, Bq, C, yLo, yHi): a smooth function from a table
// (circuits/core/fnApprox.ts fits the tables and documents each one's maximum error).
// in = D with -2^B <= D < 2^B (the caller folds the window start and rounding into D). u = floor(D / 2^k).
// u < 0: out = yLo. u >= 2^M: out = yHi. Otherwise, with segment j = the top s bits of u and t = its
// low o = M - s bits: out = floor(P_j(t) / 2^g), P_j(t) = A[j] + t * (Bq[j] + C[j] * t), and every
// P_j(t) lies in [-2^bP, 2^bP). Requires B >= k + M, o >= 1, g <= bP.
// Constraints: (B + 1) + (B - k - M) + (2^s - s - 1) + 2 + (bP + 1) + 1.
// The table is not multiplexed per entry: the 2^s - s - 1 products of the segment bits (multilinear
// monomials) are computed once, and each coefficient is a linear combination of them (free).
template PiecewiseQuad(B, k, M, s, g, bP, A, Bq, C, yLo, yHi) {
    signal input in;
    signal output out;
    var o = M - s;
    var c = B - k - M;
    var S = 1 << s;
    signal bits[B + 1] <== Bits(B + 1)(in + (1 << B));
    // w[i] = 1 iff D >= 0 and bits k+M .. k+M+i-1 are all 0; w[c] = 1 iff u is inside the window
    signal w[c + 1];
    w[0] <== bits[B];
    for (var i = 0; i < c; i++) w[i + 1] <== w[i] * (1 - bits[k + M + i]);
    // monomials of the segment bits sb[i] = bits[k + o + i]: mono[m] = prod over i in m of sb[i]
    signal mono[S];
    mono[0] <== 1;
    for (var m = 1; m < S; m++) {
        var low = 0;
        while (((m >> low) & 1) == 0) low++;
        if (m == (1 << low)) {
            mono[m] <== bits[k + o + low];
        } else {
            mono[m] <== mono[m - (1 << low)] * bits[k + o + low];
        }
    }
    // coefficient of segment j as a function of the bits: the Moebius transform of the table,
    // sum over J subset of m of (-1)^|m \ J| * table[J], is the weight of monomial m
    var ca = 0;
    var cb = 0;
    var cc = 0;
    for (var m = 0; m < S; m++) {
        var wa = 0;
        var wb = 0;
        var wc = 0;
        for (var j = 0; j < S; j++) {
            if ((j & m) == j) {
                // (-1)^|m \ J|, the parity counted inline: a function call here breaks circom's wasm output
                var parity = 0;
                for (var q = 0; q < s; q++) parity = parity ^ (((m ^ j) >> q) & 1);
                var sign = parity == 1 ? -1 : 1;
                wa += sign * A[j];
                wb += sign * Bq[j];
                wc += sign * C[j];
            }
        }
        ca += wa * mono[m];
        cb += wb * mono[m];
        cc += wc * mono[m];
    }
    var t = 0;
    for (var i = 0; i < o; i++) t += bits[k + i] * (1 << i);
    signal u1 <== cc * t;
    signal u2 <== (cb + u1) * t;
    signal pr <== Rescale(bP, g)(ca + u2);
    signal picked <== w[c] * pr;
    out <== picked + (1 - bits[B]) * yLo + (bits[B] - w[c]) * yHi;
}

// DivFloor(bq, bd): q = floor(n / d) for 1 <= d < 2^bd and -2^bq <= q < 2^bq.
// n = q*d + r with 0 <= r and r <= d - 1 (two bd-bit range checks), and q range-checked so that
// q*d cannot wrap around the field. Constraints: 1 + 2*bd + bq + 1.
template DivFloor(bq, bd) {
    signal input n;
    signal input d;
    signal output q;
    q <-- n >= 0 ? n \ d : -((-n + d - 1) \ d);
    signal r <== n - q * d;
    _ <== Bits(bd)(r);
    _ <== Bits(bd)(d - 1 - r);
    _ <== Bits(bq + 1)(q + (1 << bq));
}

// RsqrtFloor(K, bv, by): y = floor(2^K / sqrt(v)) for 1 <= v < 2^bv, when y < 2^by.
// y^2 * v <= 2^(2K) < (y + 1)^2 * v, each side a range check of by + bv + 1 bits (an honest side is
// below (2y + 1) * v), and y range-checked so that nothing wraps. Constraints: by + 3 + 2*(by + bv + 1).
template RsqrtFloor(K, bv, by) {
    signal input v;
    signal output y;
    var acc = 0;
    for (var i = by - 1; i >= 0; i--) {
        var cand = acc + (1 << i);
        if (cand * cand * v <= (1 << (2 * K))) acc = cand;
    }
    y <-- acc;
    _ <== Bits(by)(y);
    signal y2 <== y * y;
    signal under <== y2 * v;
    signal over <== (y2 + 2 * y + 1) * v;
    _ <== Bits(by + bv + 1)((1 << (2 * K)) - under);
    _ <== Bits(by + bv + 1)(over - (1 << (2 * K)) - 1);
}
