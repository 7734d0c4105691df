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
