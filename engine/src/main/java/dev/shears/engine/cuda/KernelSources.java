package dev.shears.engine.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Our CUDA C kernel families as jar resources: {@code dev/shears/engine/cuda/NAME.cu}, and the PTX
 * that scripts/cuda-ptx.sh built from each ({@code .../cuda/ptx/NAME.ptx}), whose first line is
 * {@code // shears-source-sha256 HEX NAME.cu (...)}. Reading and hashing only; compiling and loading
 * is CudaKernels'. Pinned by PtxHashTest (every shipped PTX matches the hash of its source).
 */
public final class KernelSources {
    /** The kernel families, one .cu file each. */
    public static final List<String> FAMILIES = List.of("elementwise", "batchnorm", "im2col", "depthwise", "pool", "dropout", "xent", "optim");

    /** The options both the PTX script (nvcc) and the run-time path (NVRTC) compile with, besides the architecture. */
    public static final List<String> OPTIONS = List.of("--fmad=false", "-std=c++17");

    static final String HEADER = "// shears-source-sha256 ";
    private static final String ROOT = "/dev/shears/engine/cuda/";

    private KernelSources() {}

    /** The bytes of {@code NAME.cu}. */
    public static byte[] source(String family) {
        return resource(ROOT + family + ".cu", "the CUDA source of kernel family '" + family + "'");
    }

    /** The bytes of the shipped {@code ptx/NAME.ptx}. */
    public static byte[] shippedPtx(String family) {
        return resource(ROOT + "ptx/" + family + ".ptx", "the shipped PTX of kernel family '" + family + "' (scripts/cuda-ptx.sh builds it)");
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    /** The source hash a PTX file's header line names, or null when the first line is not such a header. */
    public static String headerHash(byte[] ptx) {
        String text = new String(ptx, 0, Math.min(ptx.length, 400), StandardCharsets.US_ASCII);
        if (!text.startsWith(HEADER)) return null;
        String rest = text.substring(HEADER.length());
        int end = rest.indexOf(' ');
        return end == 64 ? rest.substring(0, 64) : null;
    }

    /**
     * Null when the shipped PTX of {@code family} was built from its current source, else a message
     * that says what differs and how to rebuild it.
     */
    public static String stalePtx(String family) {
        String want = sha256(source(family)), have = headerHash(shippedPtx(family));
        if (want.equals(have)) return null;
        return "engine/src/main/resources/dev/shears/engine/cuda/ptx/" + family + ".ptx is stale: its header says source SHA-256 "
                + (have == null ? "(none)" : have) + " but " + family + ".cu hashes to " + want + "; run scripts/cuda-ptx.sh (needs nvcc) and commit the PTX";
    }

    private static byte[] resource(String path, String what) {
        try (InputStream in = KernelSources.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException(what + " is missing from the engine jar (resource " + path + ")");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + what + " (resource " + path + "): " + e.getMessage(), e);
        }
    }
}
