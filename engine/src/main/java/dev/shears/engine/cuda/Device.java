package dev.shears.engine.cuda;

import java.util.Locale;

/**
 * Where a run computes: {@code cpu} (the default) or {@code cuda:N} (the CUDA device with ordinal N;
 * {@code cuda} means {@code cuda:0}), parsed from the {@code --device} text. Only the name: opening
 * the device, and failing clearly when there is none, is {@link CudaDevice#open}'s job.
 * Pinned by DeviceTest.
 */
public record Device(Kind kind, int ordinal) {
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public Device {
        if (kind == null) throw new IllegalArgumentException("device kind must be cpu or cuda");
        if (ordinal < 0 || (kind == Kind.CPU && ordinal != 0)) throw new IllegalArgumentException("bad device ordinal " + ordinal + " for " + kind);
    }

    public static Device cuda(int ordinal) {
        return new Device(Kind.CUDA, ordinal);
    }

    /**
     * {@code cpu}, {@code cuda} or {@code cuda:N} (case and surrounding blanks ignored).
     * @throws IllegalArgumentException naming the text and the accepted forms
     */
    public static Device parse(String text) {
        if (text == null) throw new IllegalArgumentException("device: expected cpu, cuda or cuda:N, got nothing");
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("cpu")) return CPU;
        if (t.equals("cuda")) return cuda(0);
        if (t.startsWith("cuda:")) {
            String n = t.substring(5);
            if (!n.isEmpty() && n.length() <= 4 && n.chars().allMatch(ch -> ch >= '0' && ch <= '9')) return cuda(Integer.parseInt(n));
        }
        throw new IllegalArgumentException("device '" + text + "': expected cpu, cuda or cuda:N with N a CUDA device number (0, 1, ...)");
    }

    public boolean isCuda() {
        return kind == Kind.CUDA;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + ordinal;
    }
}
