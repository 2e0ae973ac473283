package dev.shears.cli.experiment;

import dev.shears.nn.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code shears experiment submit}: hands a sweep to the cluster's scheduler. Slurm: writes
 * DIR/slurm/sweep.sbatch (an array of N workers, each {@code --shard auto}) and
 * DIR/slurm/report.sbatch, submits both with sbatch (the report after the array ends, afterany)
 * and prints the job ids; Kubernetes: writes DIR/k8s/sweep-job.yaml (an Indexed Job) for kubectl
 * apply. The plan is stored in the folder first, so a mismatch fails here, not on a node. Never
 * schedules anything itself. Pinned by SubmitTest and SlurmSweepIT.
 */
@Command(name = "submit", mixinStandardHelpOptions = true, sortOptions = false, description = {
        "Hand a sweep to Slurm (an array job of --workers workers and a report job after it) or Kubernetes (an Indexed Job manifest).",
        "Takes the same plan options as shears experiment; the workers share --out (a network file system). Submitting again resumes."})
final class SubmitCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--scheduler", required = true, description = "slurm (submits with sbatch) or k8s (writes a manifest for kubectl apply).")
    String scheduler;

    @Option(names = "--workers", required = true, description = "Number of workers (Slurm array tasks or Kubernetes pods).")
    int workers;

    @Option(names = "--out", required = true, description = "The sweep folder, shared by all workers (on a network file system, or the volume claim's).")
    Path out;

    @Option(names = "--dry-run", description = "Write the files and print how to submit them; submit nothing.")
    boolean dryRun;

    @Option(names = "--cpus-per-task", defaultValue = "4", description = "CPUs of each worker; its --threads (default: ${DEFAULT-VALUE}).")
    int cpus;

    @Option(names = "--mem", description = "Memory of each worker, e.g. 8G (Slurm --mem; Kubernetes 8Gi).")
    String mem;

    @Option(names = "--partition", description = "Slurm partition.")
    String partition;

    @Option(names = "--time", description = "Slurm time limit of each worker, e.g. 12:00:00.")
    String time;

    @Option(names = "--account", description = "Slurm account to charge.")
    String account;

    @Option(names = "--sbatch-arg", paramLabel = "ARG", description = "Any other sbatch option for both jobs, e.g. --sbatch-arg=--qos=long; repeatable.")
    List<String> sbatchArgs = new ArrayList<>();

    @Option(names = "--launcher", description = "The command that starts shears on a compute node, e.g. ./shears (default: this Java with its options and class path).")
    String launcher;

    @Option(names = "--image", description = "Kubernetes: the container image with shears on its PATH.")
    String image;

    @Option(names = "--pvc", description = "Kubernetes: the PersistentVolumeClaim that holds the sweep folder (ReadWriteMany).")
    String pvc;

    @Option(names = "--mount-path", defaultValue = "/shears", description = "Kubernetes: where the claim is mounted; the workers run there, so --out is relative to it (default: ${DEFAULT-VALUE}).")
    String mountPath;

    @Option(names = "--namespace", description = "Kubernetes namespace (default: kubectl's).")
    String namespace;

    @Option(names = "--lease", description = "Passed to the workers: seconds a claim lasts without a heartbeat (default: the workers' 300).")
    Long lease;

    @Option(names = "--dense-wait", description = "Passed to the workers: seconds to wait for a dense model trained elsewhere (default: the workers' 86400).")
    Long denseWait;

    @Mixin
    PlanOptions options = new PlanOptions();

    @Override
    public void run() {
        if (workers < 1) throw new IllegalArgumentException("--workers must be >= 1, got " + workers);
        if (cpus < 1) throw new IllegalArgumentException("--cpus-per-task must be >= 1, got " + cpus);
        ParseResult pr = spec.commandLine().getParseResult();
        Plan plan = options.plan(pr);
        WorkFolder.writeOrCheck(plan, out);
        List<String> args = workerArgs(pr);
        String name = SchedulerFiles.kubeName("shears-" + plan.name() + "-" + plan.fingerprint().substring(0, 6));
        switch (scheduler.trim().toLowerCase(Locale.ROOT)) {
            case "slurm" -> slurm(plan, name, args);
            case "k8s", "kubernetes" -> kubernetes(name, args);
            default -> throw new IllegalArgumentException("--scheduler must be slurm or k8s, got '" + scheduler + "'");
        }
    }

    /** The workers' arguments: experiment, the plan options as given, --out, --shard auto (and the lease options). */
    List<String> workerArgs(ParseResult pr) {
        List<String> a = new ArrayList<>(List.of("experiment"));
        a.addAll(PlanOptions.arguments(pr));
        a.addAll(List.of("--out", out.toString(), "--shard", "auto"));
        if (lease != null) a.addAll(List.of("--lease", Long.toString(lease)));
        if (denseWait != null) a.addAll(List.of("--dense-wait", Long.toString(denseWait)));
        return a;
    }

    private void slurm(Plan plan, String name, List<String> args) {
        List<String> launch = launcher != null ? List.of(launcher.trim().split("\\s+")) : SchedulerFiles.thisJava();
        SchedulerFiles.Slurm s = new SchedulerFiles.Slurm(name, Path.of("").toAbsolutePath().toString(), out.toString(), launch, partition, time, cpus, mem, account,
                sbatchArgs);
        Path dir = out.resolve("slurm");
        Path sweep = dir.resolve("sweep.sbatch"), report = dir.resolve("report.sbatch");
        write(sweep, SchedulerFiles.sweepScript(s, workers, args));
        write(report, SchedulerFiles.reportScript(s));
        System.out.printf(Locale.ROOT, "wrote %s (%d workers of %d items) and %s%n", sweep, workers, WorkItems.of(plan).size(), report);
        if (dryRun) {
            System.out.printf(Locale.ROOT, "submit with:%n  jobid=$(sbatch --parsable %s)%n  sbatch --dependency=afterany:$jobid %s%n", sweep, report);
            return;
        }
        String arrayId = sbatch(List.of("sbatch", "--parsable", sweep.toString()));
        String reportId = sbatch(List.of("sbatch", "--parsable", "--dependency=afterany:" + arrayId, report.toString()));
        System.out.printf(Locale.ROOT, "submitted array job %s (%d workers) and report job %s (after the array ends)%n", arrayId, workers, reportId);
        System.out.printf(Locale.ROOT, "follow with:%n  squeue -j %s,%s%n  tail -f %s/slurm/worker-%s_*.out%n  shears experiment status --out %s%n", arrayId, reportId, out, arrayId, out);
        System.out.printf(Locale.ROOT, "results (when the report job has run): %s/report.md; submitting again resumes%n", out);
    }

    private void kubernetes(String name, List<String> args) {
        if (image == null) throw new IllegalArgumentException("--scheduler k8s needs --image (a container image with shears on its PATH)");
        if (pvc == null) throw new IllegalArgumentException("--scheduler k8s needs --pvc (the PersistentVolumeClaim that holds the sweep folder)");
        if (out.isAbsolute()) throw new IllegalArgumentException("--out must be relative with --scheduler k8s (it is a folder on the claim, under --mount-path " + mountPath + ")");
        List<String> command = launcher != null ? List.of(launcher.trim().split("\\s+")) : List.of("shears");
        SchedulerFiles.Kube k = new SchedulerFiles.Kube(name, image, pvc, mountPath, command, cpus, SchedulerFiles.kubeMemory(mem), namespace);
        Path f = out.resolve("k8s").resolve("sweep-job.yaml");
        write(f, SchedulerFiles.k8sJob(k, workers, args));
        System.out.printf(Locale.ROOT, "wrote %s: an Indexed Job of %d workers on the claim %s (mounted at %s)%n", f, workers, pvc, mountPath);
        System.out.printf(Locale.ROOT, "submit with:%n  kubectl apply -f %s%nfollow with:%n  kubectl get pods -l job-name=%s%n  kubectl logs -f -l job-name=%s%n", f, name, name);
        System.out.println("each worker writes the merged results when it ends, so the last one leaves the full report on the claim; applying again"
                + " (after kubectl delete job " + name + ") resumes");
    }

    private static void write(Path f, String text) {
        AtomicFiles.writeString(f, text);
        try {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: sbatch reads the script either way
        }
    }

    /** Runs sbatch and returns the job id it printed (--parsable: "ID" or "ID;cluster"). */
    private static String sbatch(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroy();
                throw new IllegalArgumentException(String.join(" ", cmd) + " did not answer in 120 s");
            }
            if (p.exitValue() != 0) throw new IllegalArgumentException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + text);
            String last = text.lines().reduce((a, b) -> b).orElse("");
            String id = last.split(";")[0].trim();
            if (!id.matches("\\d+")) throw new IllegalArgumentException(String.join(" ", cmd) + " printed no job id: " + text);
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run sbatch (is this a Slurm login node? --dry-run writes the scripts only): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running sbatch", e);
        }
    }
}
