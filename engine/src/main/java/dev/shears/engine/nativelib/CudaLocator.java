package dev.shears.engine.nativelib;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.FileSystems;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Where the CUDA runtime and cuBLAS shared libraries are looked for: {@code -Dshears.cuda.path}
 * (folders, or a library file's folder; when set, no other folder is searched), else CUDA_HOME and
 * friends, /usr/local/cuda*, Python wheels (site-packages/nvidia/{@literal *}/lib, e.g. a PyTorch
 * venv), LD_LIBRARY_PATH and the system folders, and last the loader's own search by soname.
 * It only lists candidates; loading them is CudaGemm's job. Pinned by CudaLocatorTest.
 */
final class CudaLocator {
    /** Library majors tried, newest first; an unversioned .so is tried after them. */
    static final List<String> MAJORS = List.of("13", "12");

    /** Folders searched by default, as globs relative to the file-system root ({@code *} within one name). */
    static final List<String> DEFAULT_GLOBS = List.of(
            "usr/local/cuda/lib64", "usr/local/cuda/lib", "usr/local/cuda/targets/*/lib",
            "usr/local/cuda-*/lib64", "usr/local/cuda-*/lib", "usr/local/cuda-*/targets/*/lib",
            "opt/*/.venv/lib/python3*/site-packages/nvidia/*/lib",
            "opt/*/venv/lib/python3*/site-packages/nvidia/*/lib",
            "opt/*/lib/python3*/site-packages/nvidia/*/lib",
            "opt/conda/lib",
            "usr/local/lib/python3*/dist-packages/nvidia/*/lib",
            "usr/local/lib/python3*/site-packages/nvidia/*/lib",
            "usr/lib/python3/dist-packages/nvidia/*/lib",
            "usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu", "usr/lib64", "usr/lib");

    /** One runtime + cuBLAS pair to try. A value without a '/' is a soname for the loader's own search. */
    record Candidate(String cudart, String cublas) {
    }

    /** The folders searched, in order (existing ones only), and the pairs found in them. */
    record Search(List<Path> folders, boolean overridden, List<Candidate> candidates) {
        String foldersBrief() {
            if (folders.isEmpty()) return overridden ? "no such folder" : "no CUDA folder exists";
            List<String> shown = folders.stream().limit(3).map(Path::toString).toList();
            return String.join(", ", shown) + (folders.size() > 3 ? " and " + (folders.size() - 3) + " more" : "");
        }
    }

    private CudaLocator() {}

    /** The search this JVM makes: the system property, the environment, the real root. */
    static Search search() {
        return search(System.getProperty("shears.cuda.path"), System.getenv(), Path.of("/"));
    }

    /**
     * @param override {@code -Dshears.cuda.path} (null or blank: the default search), folders joined by ':'
     * @param env      environment (CUDA_HOME, CUDA_PATH, VIRTUAL_ENV, CONDA_PREFIX, HOME, LD_LIBRARY_PATH)
     * @param root     where the default globs start (the real "/" except in tests)
     */
    static Search search(String override, Map<String, String> env, Path root) {
        Set<Path> folders = new LinkedHashSet<>();
        boolean overridden = override != null && !override.isBlank();
        if (overridden) {
            for (String part : override.split(File.pathSeparator)) {
                if (part.isBlank()) continue;
                Path p = Path.of(part.trim());
                if (Files.isRegularFile(p) && p.getParent() != null) p = p.getParent();
                if (Files.isDirectory(p)) folders.add(p.toAbsolutePath().normalize());
            }
        } else {
            for (String var : List.of("CUDA_HOME", "CUDA_PATH", "CUDA_ROOT", "CUDA_TOOLKIT_ROOT_DIR")) {
                String home = env.get(var);
                if (home == null || home.isBlank()) continue;
                addExisting(folders, Path.of(home, "lib64"), Path.of(home, "lib"));
                folders.addAll(glob(Path.of(home), "targets/*/lib"));
            }
            for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
                String home = env.get(var);
                if (home == null || home.isBlank()) continue;
                folders.addAll(glob(Path.of(home), "lib/python3*/site-packages/nvidia/*/lib"));
                addExisting(folders, Path.of(home, "lib"));
            }
            for (String g : DEFAULT_GLOBS.subList(0, 6)) folders.addAll(glob(root, g));
            for (String g : DEFAULT_GLOBS.subList(6, 13)) folders.addAll(glob(root, g));
            String home = env.get("HOME");
            if (home != null && !home.isBlank()) folders.addAll(glob(Path.of(home), ".local/lib/python3*/site-packages/nvidia/*/lib"));
            String ld = env.get("LD_LIBRARY_PATH");
            if (ld != null) {
                for (String part : ld.split(File.pathSeparator)) if (!part.isBlank()) addExisting(folders, Path.of(part));
            }
            for (String g : DEFAULT_GLOBS.subList(13, DEFAULT_GLOBS.size())) folders.addAll(glob(root, g));
        }
        List<Path> list = List.copyOf(folders);
        return new Search(list, overridden, candidates(list, true));
    }

    /**
     * Pairs of the same major, each half found anywhere in the folders (pip wheels split them), newest
     * major first. With {@code withSonames}, a half not found in a folder is left to the loader's own
     * search by soname (LD_LIBRARY_PATH, the ldconfig cache).
     */
    static List<Candidate> candidates(List<Path> folders, boolean withSonames) {
        List<Candidate> out = new ArrayList<>();
        for (String m : MAJORS) {
            Path cudart = first(folders, "libcudart.so." + m);
            Path cublas = first(folders, "libcublas.so." + m);
            if (cudart != null && cublas != null) {
                out.add(new Candidate(cudart.toString(), cublas.toString()));
            } else if (withSonames) {
                out.add(new Candidate(cudart != null ? cudart.toString() : "libcudart.so." + m,
                        cublas != null ? cublas.toString() : "libcublas.so." + m));
            }
        }
        Path cudart = first(folders, "libcudart.so"), cublas = first(folders, "libcublas.so");
        if (cudart != null && cublas != null) out.add(new Candidate(cudart.toString(), cublas.toString()));
        return out;
    }

    /**
     * Where to load one library from, in order: each name found in the folders (first folder first),
     * then (with {@code withSonames}) each name as a soname for the loader's own search. Used for the driver ({@code libcuda.so.1},
     * which lives with the display driver, not the toolkit) and NVRTC ({@code libnvrtc.so.13/.12}).
     */
    static List<String> library(List<Path> folders, List<String> names, boolean withSonames) {
        List<String> out = new ArrayList<>();
        for (String name : names) {
            Path p = first(folders, name);
            if (p != null) out.add(p.toString());
        }
        if (withSonames) out.addAll(names);
        return out;
    }

    private static Path first(List<Path> folders, String name) {
        for (Path f : folders) {
            Path p = f.resolve(name);
            if (Files.exists(p)) return p;
        }
        return null;
    }

    private static void addExisting(Set<Path> into, Path... paths) {
        for (Path p : paths) if (Files.isDirectory(p)) into.add(p.toAbsolutePath().normalize());
    }

    /** Existing folders matching {@code pattern} under {@code base}; {@code *} matches within one name. */
    static List<Path> glob(Path base, String pattern) {
        List<Path> current = List.of(base);
        for (String part : pattern.split("/")) {
            if (part.isEmpty()) continue;
            List<Path> next = new ArrayList<>();
            if (!part.contains("*")) {
                for (Path p : current) if (Files.isDirectory(p.resolve(part))) next.add(p.resolve(part));
            } else {
                PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + part);
                for (Path p : current) {
                    if (!Files.isDirectory(p)) continue;
                    try (Stream<Path> s = Files.list(p)) {
                        s.filter(c -> m.matches(c.getFileName()) && Files.isDirectory(c)).sorted().forEach(next::add);
                    } catch (IOException | SecurityException e) {
                        // an unreadable folder is simply not searched
                    }
                }
            }
            current = next;
            if (current.isEmpty()) break;
        }
        return current.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    }
}
