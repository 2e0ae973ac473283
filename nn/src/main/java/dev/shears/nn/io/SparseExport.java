package dev.shears.nn.io;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.shears.engine.Shape;
import dev.shears.engine.Tensor;
import dev.shears.engine.Workspace;
import dev.shears.engine.kernels.SparseMatrix;
import dev.shears.nn.Model;
import dev.shears.nn.Parameter;
import dev.shears.nn.models.ModelZoo;
import dev.shears.nn.models.Network;
import dev.shears.nn.models.SparseInference;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A pruned model stored sparse: each masked prunable weight as CSR by output row
 * ({@code <name>.csr_values} F32 (nnz), {@code <name>.csr_col} I32 (nnz), {@code <name>.csr_rowptr}
 * I32 (rows + 1), its dense shape in metadata {@code <name>.shape}), every other tensor dense, the
 * model spec in metadata. Not a training checkpoint: no optimizer state. The loader rebuilds the
 * masked dense model (mask = the stored nonzeros). Pinned by SparseExportTest.
 */
public final class SparseExport {
    public static final String FORMAT = "shears-sparse";
    public static final String VERSION = "1";

    private SparseExport() {}

    /** What the file holds: nonzeros stored sparse, the dense weights they replace, bytes of the CSR tensors. */
    public record Stats(long nonzeros, long denseWeights, long csrBytes) {
        /** CSR bytes per stored nonzero: 8 (value + column) plus the row pointers spread over them. */
        public double bytesPerNonzero() { return nonzeros == 0 ? 0 : (double) csrBytes / nonzeros; }
    }

    /** Writes {@code model} atomically to {@code file}: masked prunable weights as CSR, the rest dense. */
    public static Stats write(Path file, Model model) {
        List<Safetensors.Entry> entries = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", VERSION);
        meta.put("model", new Gson().toJson(new TreeMap<>(model.spec())));
        long nnz = 0, dense = 0, bytes = 0;
        for (Parameter p : model.parameters()) {
            if (!p.prunable() || p.mask() == null || p.shape().length < 2) {
                entries.add(Safetensors.f32(p.name(), p.value()));
                continue;
            }
            SparseMatrix s = SparseInference.maskedCsr(p);
            int[] rowStart = s.rowStarts(), col = s.columns();
            float[] value = s.values();
            entries.add(new Safetensors.Entry(p.name() + ".csr_values", Safetensors.DType.F32, new long[] {value.length}, le(MemorySegment.ofArray(value))));
            entries.add(new Safetensors.Entry(p.name() + ".csr_col", Safetensors.DType.I32, new long[] {col.length}, le(MemorySegment.ofArray(col))));
            entries.add(new Safetensors.Entry(p.name() + ".csr_rowptr", Safetensors.DType.I32, new long[] {rowStart.length}, le(MemorySegment.ofArray(rowStart))));
            meta.put(p.name() + ".shape", String.join(",", Arrays.stream(p.shape()).mapToObj(Integer::toString).toList()));
            nnz += value.length;
            dense += p.size();
            bytes += 4L * value.length + 4L * col.length + 4L * rowStart.length;
        }
        for (Map.Entry<String, Tensor> b : model.buffers().entrySet()) {
            Tensor t = b.getValue();
            Safetensors.DType d = switch (t.dtype()) {
                case F32 -> Safetensors.DType.F32;
                case I32 -> Safetensors.DType.I32;
                case U8 -> Safetensors.DType.U8;
            };
            entries.add(new Safetensors.Entry(b.getKey(), d, Safetensors.toLong(t.shape()), t.segment().asSlice(0, t.size() * t.dtype().bytes)));
        }
        Safetensors.write(file, entries, meta);
        return new Stats(nnz, dense, bytes);
    }

    /**
     * Rebuilds the model: the zoo network of the stored spec with every tensor restored, CSR
     * weights expanded to dense with a mask of their nonzeros allocated in {@code maskOwner}
     * (which must outlive the model). A foreign or inconsistent file is a clear error.
     */
    public static Network load(Path file, Workspace maskOwner) {
        try (Safetensors.Contents c = Safetensors.read(file)) {
            Map<String, String> meta = c.metadata();
            if (!FORMAT.equals(meta.get("format")) || !VERSION.equals(meta.get("format_version"))) {
                throw new SafetensorsFormatException(file + ": not a Shears sparse model version " + VERSION + " (metadata format '"
                        + meta.get("format") + "' version '" + meta.get("format_version") + "'); write one with 'shears export'");
            }
            Map<String, String> spec = new LinkedHashMap<>();
            try {
                JsonObject o = JsonParser.parseString(meta.getOrDefault("model", "")).getAsJsonObject();
                for (String k : o.keySet()) spec.put(k, o.get(k).getAsString());
            } catch (JsonParseException | IllegalStateException | UnsupportedOperationException e) {
                throw new SafetensorsFormatException(file + ": metadata 'model' is not a JSON object of strings (the model spec)");
            }
            Network net = ModelZoo.create(spec);
            try {
                for (Parameter p : net.parameters()) restore(file, c, p, maskOwner);
                for (Map.Entry<String, Tensor> b : net.buffers().entrySet()) copy(file, c.require(b.getKey()), b.getValue());
                return net;
            } catch (RuntimeException e) {
                net.close();
                throw e;
            }
        }
    }

    private static void restore(Path file, Safetensors.Contents c, Parameter p, Workspace maskOwner) {
        Safetensors.Entry values = c.entries().get(p.name() + ".csr_values");
        if (values == null) {
            copy(file, c.require(p.name()), p.value());
            return;
        }
        String shape = Shape.str(p.shape());
        String stored = c.metadata().get(p.name() + ".shape");
        String want = String.join(",", Arrays.stream(p.shape()).mapToObj(Integer::toString).toList());
        if (!want.equals(stored)) throw new SafetensorsFormatException(file + ": '" + p.name() + "' stored with shape '" + stored + "', the model needs " + shape);
        Safetensors.Entry col = c.require(p.name() + ".csr_col"), rowptr = c.require(p.name() + ".csr_rowptr");
        if (values.dtype() != Safetensors.DType.F32 || col.dtype() != Safetensors.DType.I32 || rowptr.dtype() != Safetensors.DType.I32) {
            throw new SafetensorsFormatException(file + ": CSR tensors of '" + p.name() + "' must be F32 values and I32 columns and row pointers");
        }
        int rows = p.shape()[0], cols = (int) (p.size() / rows);
        SparseMatrix s;
        try {
            s = SparseMatrix.fromCsr(rows, cols, ints(rowptr), ints(col), floats(values));
        } catch (IllegalArgumentException e) {
            throw new SafetensorsFormatException(file + ": CSR tensors of '" + p.name() + "' " + shape + " are inconsistent: " + e.getMessage());
        }
        s.toDense(p.value().segment(), 0, cols);
        float[] keep = new float[Math.toIntExact(p.size())];
        int[] rs = s.rowStarts(), cs = s.columns();
        for (int r = 0; r < rows; r++) for (int k = rs[r]; k < rs[r + 1]; k++) keep[r * cols + cs[k]] = 1f;
        if (p.mask() != null) p.mask().copyFrom(keep);
        else p.setMask(maskOwner, keep);
    }

    private static void copy(Path file, Safetensors.Entry e, Tensor t) {
        long bytes = t.size() * t.dtype().bytes;
        if (!Arrays.equals(e.shape(), Safetensors.toLong(t.shape())) || e.data().byteSize() != bytes) {
            throw new SafetensorsFormatException(file + ": tensor '" + e.name() + "' is " + e.dtype() + " " + Arrays.toString(e.shape())
                    + ", the model needs " + t.dtype() + " " + Shape.str(t.shape()));
        }
        MemorySegment.copy(e.data(), 0, t.segment(), 0, bytes);
    }

    /** The bytes of a heap int/float array as a little-endian byte-array segment (what the writer takes). */
    private static MemorySegment le(MemorySegment words) {
        byte[] b = new byte[(int) words.byteSize()];
        MemorySegment out = MemorySegment.ofArray(b);
        for (long i = 0; i < words.byteSize() / 4; i++) {
            out.setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), i,
                    words.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, i));
        }
        return out;
    }

    private static int[] ints(Safetensors.Entry e) {
        int[] a = new int[Math.toIntExact(e.elements())];
        for (int i = 0; i < a.length; i++) a[i] = e.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, i);
        return a;
    }

    private static float[] floats(Safetensors.Entry e) {
        float[] a = new float[Math.toIntExact(e.elements())];
        for (int i = 0; i < a.length; i++) a[i] = e.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return a;
    }
}
