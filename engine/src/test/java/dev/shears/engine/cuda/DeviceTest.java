package dev.shears.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shears.engine.kernels.ConvGeometry;
import dev.shears.engine.nativelib.CudaDriver;
import dev.shears.engine.nativelib.CudaException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device notion on a CPU machine: --device parsing, the no-driver and no-device errors, and the
 * device layer (context, stream, caching allocator, pinned staging, copies, kernel loading and
 * launches) run for real through FFM against a fake libcuda (fakecudadriver.c). The kernels' results
 * need a GPU: CudaKernelsGpuTest.
 */
class DeviceTest {
    @TempDir
    static Path tmp;
    static FakeDriver.Folders fake;

    @BeforeAll
    static void buildFake() throws Exception {
        fake = FakeDriver.build(tmp.resolve("fake"));
    }

    private static void needFake() {
        Assumptions.assumeTrue(fake != null, "no C compiler (cc, gcc or clang) on PATH to build the fake CUDA driver");
    }

    @Test
    void parsesCpuCudaAndCudaN() {
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertEquals(Device.CPU, Device.parse(" CPU "));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(0), Device.parse("cuda:0"));
        assertEquals(Device.cuda(3), Device.parse("Cuda:3"));
        assertEquals("cuda:3", Device.cuda(3).toString());
        assertEquals("cpu", Device.CPU.toString());
        assertTrue(Device.parse("cuda:1").isCuda());
        assertFalse(Device.CPU.isCuda());
    }

    @Test
    void badDeviceTextIsNamedWithTheAcceptedForms() {
        for (String bad : new String[] {"gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1:2", "cuda0", "", "cuda:99999", "mps"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains("cpu, cuda or cuda:N"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Device.parse(null));
    }

    @Test
    void noDriverIsAnErrorNamingWhatWasLookedFor() {
        CudaDriver.Probe none = CudaDriver.probeFolders(List.of(tmp));
        assertFalse(none.available());
        CudaDevice.Unavailable e = assertThrows(CudaDevice.Unavailable.class, () -> CudaDevice.open(Device.cuda(0), none));
        assertTrue(e.getMessage().startsWith("--device cuda:0: no CUDA driver: looked for libcuda.so.1"), e.getMessage());
        assertTrue(e.getMessage().contains(tmp.toString()) && e.getMessage().contains("--device cpu"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaDevice.open(Device.CPU, none));
    }

    @Test
    void thisMachinesProbeAgreesWithOpen() {
        CudaDriver.Probe p = CudaDriver.probe();
        List<String> lines = CudaDevice.describeAll();
        assertFalse(lines.isEmpty());
        if (!p.available()) {
            assertEquals(List.of(p.line()), lines);
            CudaDevice.Unavailable e = assertThrows(CudaDevice.Unavailable.class, () -> CudaDevice.open(Device.cuda(0)));
            assertTrue(e.getMessage().contains(p.line()), e.getMessage());
        } else {
            assertTrue(lines.getFirst().startsWith("cuda:0 "), lines.toString());
        }
    }

    @Test
    void brokenDriversAreNamed() {
        needFake();
        String notLib = CudaDriver.probeFolders(List.of(fake.notALibrary())).line();
        assertTrue(notLib.startsWith("cannot load " + fake.notALibrary().resolve("libcuda.so.1")), notLib);
        String noSym = CudaDriver.probeFolders(List.of(fake.noSymbols())).line();
        assertTrue(noSym.contains("symbol cuInit not found") && noSym.contains(fake.noSymbols().toString()), noSym);
        CudaDriver.Probe noDevice = CudaDriver.probeFolders(List.of(fake.noDevice()));
        assertFalse(noDevice.available());
        assertTrue(noDevice.line().endsWith("loaded, but cuInit failed: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected"), noDevice.line());
        CudaDevice.Unavailable e = assertThrows(CudaDevice.Unavailable.class, () -> CudaDevice.open(Device.cuda(0), noDevice));
        assertTrue(e.getMessage().contains("CUDA_ERROR_NO_DEVICE"), e.getMessage());
    }

    @Test
    void aMissingOrdinalIsNamedWithTheDevicesThereAre() {
        needFake();
        CudaDriver.Probe p = CudaDriver.probeFolders(List.of(fake.working()));
        assertTrue(p.available(), p.line());
        CudaDevice.Unavailable e = assertThrows(CudaDevice.Unavailable.class, () -> CudaDevice.open(Device.cuda(2), p));
        assertTrue(e.getMessage().contains("--device cuda:2") && e.getMessage().contains("sees 1 device (cuda:0)"), e.getMessage());
    }

    @Test
    void driverErrorsCarryTheCallTheCodeAndItsName() {
        needFake();
        CudaDriver d = CudaDriver.probeFolders(List.of(fake.working())).driver();
        CudaException e = assertThrows(CudaException.class, () -> d.device(5));
        assertEquals("cuDeviceGet(5) failed: CUDA_ERROR_INVALID_DEVICE (101): invalid device ordinal", e.getMessage());
        assertEquals(101, e.code());
        CudaException free = assertThrows(CudaException.class, () -> d.free(42));
        assertEquals("CUDA_ERROR_INVALID_VALUE", free.codeName());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment bad = a.allocateFrom("bad ptx");
            CudaException jit = assertThrows(CudaException.class, () -> d.loadModule(bad, "x.ptx"));
            assertEquals("cuModuleLoadDataEx(x.ptx) failed: CUDA_ERROR_INVALID_PTX (218): JIT log: ptxas fatal: fake: bad PTX at line 1", jit.getMessage());
            assertTrue(d.loadModule(a.allocateFrom(".version 9.0"), "good.ptx") != 0);
        }
        CudaException unnamed = assertThrows(CudaException.class, () -> d.check("cuSomething", 222));
        assertEquals("cuSomething failed: CUDA_ERROR_UNSUPPORTED_PTX_VERSION (222)", unnamed.getMessage(), "the table names what the driver does not");
    }

    @Test
    void buffersRoundTripThroughPinnedStagingAndAreCached() {
        needFake();
        try (CudaDevice dev = CudaDevice.open(Device.cuda(0), CudaDriver.probeFolders(List.of(fake.working())))) {
            assertTrue(dev.describe().startsWith("cuda:0 Fake GPU (sm_90, 4 GiB, 132 SMs)"), dev.describe());
            long mallocs0 = FakeDriver.stat(fake.working(), 0);
            int n = 1000;
            for (int step = 0; step < 3; step++) {
                try (PinnedBuffer in = dev.pinned(4L * n); PinnedBuffer out = dev.pinned(4L * n);
                     DeviceBuffer a = dev.allocate(n); DeviceBuffer b = dev.allocate(n)) {
                    float[] values = new float[n];
                    for (int i = 0; i < n; i++) values[i] = i * 0.5f - step;
                    MemorySegment.copy(values, 0, in.segment(), ValueLayout.JAVA_FLOAT, 0, n);
                    dev.upload(in.segment(), 0, a.address(), 4L * n);
                    dev.copy(a.address(), b.address(), 4L * n);
                    dev.zero(a.at(10), 5);
                    dev.download(b.address(), out.segment(), 0, 4L * n);
                    dev.synchronize();
                    assertArrayEquals(values, out.segment().toArray(ValueLayout.JAVA_FLOAT));
                    dev.download(a.address(), out.segment(), 0, 4L * n);
                    dev.synchronize();
                    float[] zeroed = out.segment().toArray(ValueLayout.JAVA_FLOAT);
                    for (int i = 0; i < n; i++) assertEquals(i >= 10 && i < 15 ? 0f : values[i], zeroed[i], "element " + i);
                }
            }
            assertEquals(2, FakeDriver.stat(fake.working(), 0) - mallocs0, "device mallocs after the first step");
            assertEquals(4, dev.allocatorStats().cacheHits());
        }
        assertEquals(0, FakeDriver.stat(fake.working(), 2), "close() hands the cache back to the driver");
    }

    @Test
    void outOfDeviceMemoryIsNamedAfterTheCacheIsReturned() {
        needFake();
        try (CudaDevice dev = CudaDevice.open(Device.cuda(0), CudaDriver.probeFolders(List.of(fake.small())))) {
            DeviceBuffer a = dev.allocate(100_000); // 400 KB of the fake's 1 MiB, in a 512 KiB class
            a.close();
            DeviceBuffer b = dev.allocate(200_000); // the cached block is returned to make room
            DeviceAllocator.OutOfDeviceMemory e = assertThrows(DeviceAllocator.OutOfDeviceMemory.class, () -> dev.allocate(200_000));
            assertTrue(e.getMessage().contains("cuda:0 (Fake GPU): cuMemAlloc(") && e.getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY (2)"), e.getMessage());
            b.close();
        }
    }

    @Test
    void everyOpLaunchesALoadedKernelWithItsArguments() {
        needFake();
        try (CudaDevice dev = CudaDevice.open(Device.cuda(0), CudaDriver.probeFolders(List.of(fake.working())))) {
            CudaOps ops = dev.ops();
            for (String family : KernelSources.FAMILIES) {
                for (String kernel : CudaKernels.entries(KernelSources.shippedPtx(family))) assertTrue(dev.kernels().has(kernel), kernel);
            }
            long launches0 = FakeDriver.stat(fake.working(), 3);
            long p = 0x1000; // the fake never dereferences kernel arguments
            ConvGeometry g = ConvGeometry.square(3, 9, 7, 3, 2, 1);
            ops.relu(p, p, 5); ops.reluBackward(p, p, p, 5); ops.relu6(p, p, 5); ops.relu6Backward(p, p, p, 5);
            ops.add(p, p, p, 5); ops.addRelu(p, p, p, 5); ops.scale(p, 2f, 5); ops.axpy(2f, p, p, 5); ops.mul(p, p, p, 5); ops.fill(p, 1f, 5);
            ops.channelAffine(p, p, p, p, 2, 3, 4); ops.channelAffine2(p, p, p, p, p, p, 2, 3, 4);
            ops.zeroPadShortcut(p, p, 2, 3, 8, 8, 6, 2); ops.zeroPadShortcutBackward(p, p, 2, 3, 8, 8, 6, 2);
            ops.batchNormForward(p, p, 2, 3, 4, p, p, p, p, 0.1, 1e-5, true, p, p, p, p);
            ops.batchNormBackward(p, p, p, 2, 3, 4, p, p, p, p, p, true, p, p, p);
            ops.channelSumAccumulate(p, 2, 3, 4, p);
            ops.im2col(g, 2, p, 3 * 9 * 7, p, 2L * g.pixels()); ops.col2im(g, 2, p, 2L * g.pixels(), p, 3 * 9 * 7);
            ops.depthwiseForward(g, 2, p, p, 0, p); ops.depthwiseBackwardData(g, 2, p, p, p); ops.depthwiseBackwardWeight(g, 2, p, p, p);
            ops.maxPool(p, p, p, 6, 9, 7, 3, 2, 1); ops.maxPoolBackward(p, p, p, 6, 9, 7, 3, 2, 1);
            ops.avgPool(p, p, 6, 9, 7, 3, 2, 1); ops.avgPoolBackward(p, p, 6, 9, 7, 3, 2, 1);
            ops.globalAvgPool(p, p, 6, 63); ops.globalAvgPoolBackward(p, p, 6, 63);
            ops.dropout(p, p, p, 100, 0.5, 7, 0);
            ops.crossEntropy(p, p, p, 4, 10, 0.1f, p, p, p, p);
            ops.sgdStep(p, p, p, p, 5, 0.1f, 0.9f, 5e-4f, true, 0f, false, true);
            ops.adamStep(p, p, p, p, 0, 5, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1f, 1, false);
            // 32 op calls; batch norm forward and backward and the cross-entropy launch two kernels each
            assertEquals(35, FakeDriver.stat(fake.working(), 3) - launches0, "kernel launches");
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> dev.kernels().launch("nope", 1, 1, dev.stream()));
            assertTrue(bad.getMessage().contains("no CUDA kernel named 'nope'"), bad.getMessage());
            IllegalArgumentException types = assertThrows(IllegalArgumentException.class, () -> dev.kernels().launch("relu_fwd", 1, 32, dev.stream(), p, p, 5L));
            assertEquals("kernel relu_fwd takes (LLI) but was given (LLL) [L: pointer or 64-bit integer, I: int, F: float, D: double]", types.getMessage());
            assertThrows(IllegalArgumentException.class, () -> dev.kernels().launch("scale", 1, 32, dev.stream(), p, 2.0, 5), "a double for a float");
            assertThrows(IllegalArgumentException.class, () -> dev.kernels().launch("fill", 1, 32, dev.stream(), p, 1f), "too few arguments");
            assertThrows(IllegalArgumentException.class, () -> ops.sgdStep(p, p, 0, 0, 5, 0.1f, 0.9f, 0f, false, 0f, true, false));
            assertThrows(IllegalArgumentException.class, () -> ops.maxPool(p, p, p, 6, 9, 7, 3, 2, 2));
        }
    }
}
