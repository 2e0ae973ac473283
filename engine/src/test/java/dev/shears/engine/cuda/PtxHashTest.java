package dev.shears.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The PTX shipped in the jar was built from the CUDA sources as they are now (its header's SHA-256),
 * and it defines exactly the kernels its source declares. A stale PTX fails here with a message that
 * says to run scripts/cuda-ptx.sh.
 */
class PtxHashTest {
    private static final Pattern DECLARED = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(");

    @Test
    void everyShippedPtxMatchesItsSource() {
        for (String family : KernelSources.FAMILIES) assertNull(KernelSources.stalePtx(family), family);
    }

    @Test
    void everyPtxDefinesTheKernelsItsSourceDeclares() {
        for (String family : KernelSources.FAMILIES) {
            Matcher m = DECLARED.matcher(new String(KernelSources.source(family), StandardCharsets.UTF_8));
            List<String> declared = m.results().map(r -> r.group(1)).sorted().toList();
            List<String> defined = CudaKernels.entries(KernelSources.shippedPtx(family)).stream().sorted().toList();
            assertFalse(declared.isEmpty(), family);
            assertEquals(declared, defined, family + ".ptx entries");
            assertEquals(declared, CudaKernels.signatures(KernelSources.shippedPtx(family)).keySet().stream().sorted().toList(), family + " signatures");
        }
    }

    @Test
    void signaturesReadTheParameterTypes() {
        java.util.Map<String, String> sig = CudaKernels.signatures(KernelSources.shippedPtx("batchnorm"));
        // x, n, c, p, gamma, beta, running mean, running var, momentum, eps, training, mean, invstd, scale, shift
        assertEquals("LIIILLLLDDILLLL", sig.get("bn_forward_stats"));
        assertEquals("LLLLIFFFIFII", CudaKernels.signatures(KernelSources.shippedPtx("optim")).get("sgd_step"));
        assertEquals("LLLLDFLL", CudaKernels.signatures(KernelSources.shippedPtx("dropout")).get("dropout_fwd"));
    }

    @Test
    void aChangedSourceIsReportedWithTheFix() {
        byte[] ptx = KernelSources.shippedPtx("optim");
        String hash = KernelSources.headerHash(ptx);
        assertEquals(KernelSources.sha256(KernelSources.source("optim")), hash);
        byte[] edited = KernelSources.source("optim").clone();
        edited[edited.length - 2] ^= 1;
        assertFalse(KernelSources.sha256(edited).equals(hash), "a one-bit edit changes the hash");
        assertNull(KernelSources.headerHash(Arrays.copyOfRange(ptx, 3, ptx.length)), "a PTX without its header line");
        String stale = "x".repeat(64);
        assertNull(KernelSources.headerHash(("// shears-source-sha256 " + stale.substring(1) + " optim.cu").getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void theStaleMessageSaysWhatToRun() {
        // stalePtx compares resources; an absent family names the resource and the script
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> KernelSources.stalePtx("nosuchfamily"));
        assertTrue(e.getMessage().contains("nosuchfamily.cu"), e.getMessage());
        assertTrue(KernelSources.shippedPtx("xent").length > 0);
    }
}
