package dev.shears.pruning;

/**
 * How a float score becomes an order-preserving int key for the radix select. {@link #MAGNITUDE}
 * ranks |x| (the sign bit dropped, so -0 == +0): Global MP, LAMP, SNIP, SynFlow. {@link #SIGNED}
 * ranks x itself (negative below positive, -0 == +0), for signed scores such as GraSP's. Keys of
 * finite values never equal {@link Integer#MIN_VALUE} or {@link Integer#MAX_VALUE}, which the
 * select uses as "below everything" and "above everything". Pinned by KeyOrderTest.
 */
public enum KeyOrder {
    /** key = bits of |x|: 31 bits, the radix digits are 16 + 15 bits. */
    MAGNITUDE(15, 0, 0x7fff),
    /** key = bits with the low 31 flipped for negatives: signed int order = float order; 16 + 16 bits. */
    SIGNED(16, 0x8000, 0xffff);

    /** Marks "no key": below every finite key. */
    static final int BELOW_ALL = Integer.MIN_VALUE;
    /** Marks "no limit": above every finite key. */
    static final int ABOVE_ALL = Integer.MAX_VALUE;

    final int shift;   // high digit = (key >>> shift) ^ flip, in [0, 65536)
    final int flip;
    final int lowMask; // low digit = key & lowMask

    KeyOrder(int shift, int flip, int lowMask) {
        this.shift = shift;
        this.flip = flip;
        this.lowMask = lowMask;
    }

    /** The key of a float given as raw bits. */
    int keyOfBits(int bits) {
        if (this == MAGNITUDE) return bits & 0x7fffffff;
        if (bits == 0x80000000) return 0; // -0 ranks as +0
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    /** The key of {@code x}. */
    public int key(float x) {
        return keyOfBits(Float.floatToRawIntBits(x));
    }

    /** The float a key stands for (|x| for MAGNITUDE). */
    public float value(int key) {
        return Float.intBitsToFloat(bitsOf(key));
    }

    /** The raw float bits a key stands for (the inverse of {@link #keyOfBits} up to -0 and sign). */
    int bitsOf(int key) {
        return this == MAGNITUDE || key >= 0 ? key : key ^ 0x7fffffff;
    }

    /** The key rebuilt from its high and low digits. */
    int join(int high, int low) {
        return ((high ^ flip) << shift) | low;
    }

    int high(int key) {
        return (key >>> shift) ^ flip;
    }

    static boolean nonFinite(int bits) {
        return (bits & 0x7fffffff) >= 0x7f800000;
    }
}
