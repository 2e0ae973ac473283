package dev.shears.cli.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import dev.shears.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code shears experiment submit --dry-run}: the Slurm array script and the report job's script,
 * and the Kubernetes Indexed Job manifest, by content (no cluster here; SlurmSweepTest runs the
 * scripts on a real Slurm where it can start one). The workers' command gives back the very plan
 * that was submitted; submitting other options to the same folder fails naming them.
 */
class SubmitTest {
    static final String[] PLAN = {"--model", "lenet5", "--methods", "global,uniform", "--sparsities", "0.5,0.9", "--seeds", "0,1", "--lr", "0.05", "--nesterov",
            "--model-option", "dropout=0.1", "--train-size", "256"};

    /** Runs {@code shears experiment ARGS} in this JVM; returns stdout + stderr and asserts the exit code. */
    static String run(int expectedExit, String... args) {
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            CommandLine cl = new CommandLine(new ExperimentCommand());
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err, true));
            cl.setExecutionExceptionHandler((ex, cmd, pr) -> {
                cmd.getErr().println(ex.getMessage());
                return 2;
            });
            code = cl.execute(args);
            buf.writeBytes(err.toString().getBytes(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        assertEquals(expectedExit, code, text);
        return text;
    }

    static String[] concat(String[] a, String... b) {
        List<String> l = new ArrayList<>(List.of(a));
        l.addAll(List.of(b));
        return l.toArray(String[]::new);
    }

    @Test
    void slurmScriptsRunAnArrayOfWorkersAndAReportAfterIt(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("sweep");
        String said = run(0, concat(concat(new String[] {"submit", "--scheduler", "slurm", "--workers", "4", "--out", out.toString(), "--dry-run", "--partition", "cpu",
                "--time", "2:00:00", "--cpus-per-task", "8", "--mem", "16G", "--account", "lab", "--sbatch-arg=--qos=long", "--sbatch-arg", "--exclusive",
                "--launcher", "./shears"}, PLAN)));
        assertTrue(said.contains("sbatch --dependency=afterany:$jobid " + out.resolve("slurm/report.sbatch")), said);
        String sweep = Files.readString(out.resolve("slurm/sweep.sbatch"), StandardCharsets.UTF_8);
        for (String line : List.of("#SBATCH --array=0-3", "#SBATCH --partition=cpu", "#SBATCH --time=2:00:00", "#SBATCH --cpus-per-task=8", "#SBATCH --mem=16G",
                "#SBATCH --account=lab", "#SBATCH --qos=long", "#SBATCH --exclusive", "#SBATCH --output=" + out + "/slurm/worker-%A_%a.out",
                "#SBATCH --chdir=" + Path.of("").toAbsolutePath(), "threads=${SLURM_CPUS_PER_TASK:-8}")) {
            assertTrue(sweep.lines().anyMatch(l -> l.equals(line)), "missing '" + line + "' in\n" + sweep);
        }
        Matcher m = Pattern.compile("(?m)^exec \\./shears (.*) --threads \"\\$threads\"$").matcher(sweep);
        assertTrue(m.find(), sweep);
        List<String> words = shellSplit(m.group(1));
        assertEquals("experiment", words.getFirst());
        assertEquals(List.of("--out", out.toString(), "--shard", "auto"), words.subList(words.size() - 4, words.size()));
        // the workers' arguments describe the plan that was submitted (and stored in the folder)
        ExperimentCommand worker = new ExperimentCommand();
        new CommandLine(worker).parseArgs(words.subList(1, words.size()).toArray(String[]::new));
        assertEquals(WorkFolder.read(out).json(), worker.plan().json());
        assertEquals("auto", worker.shard);

        String report = Files.readString(out.resolve("slurm/report.sbatch"), StandardCharsets.UTF_8);
        assertTrue(report.contains("#SBATCH --cpus-per-task=1\n") && report.contains("#SBATCH --account=lab\n"), report);
        assertTrue(report.contains("./shears experiment report --out " + out + "\n"), report);
        assertTrue(Files.isExecutable(out.resolve("slurm/sweep.sbatch")));

        // the same options again resume; other options are refused by name
        run(0, concat(new String[] {"submit", "--scheduler", "slurm", "--workers", "2", "--out", out.toString(), "--dry-run"}, PLAN));
        String refused = run(2, concat(new String[] {"submit", "--scheduler", "slurm", "--workers", "2", "--out", out.toString(), "--dry-run", "--finetune-epochs", "3"},
                PLAN));
        assertTrue(refused.contains("--finetune-epochs (finetune.epochs): 5 in the folder, 3 here"), refused);
    }

    @Test
    void theKubernetesManifestIsAnIndexedJobOnAVolumeClaim(@TempDir Path tmp) throws Exception {
        Path cwd = Path.of("").toAbsolutePath();
        Path out = cwd.relativize(tmp.resolve("k8s-sweep").toAbsolutePath());
        String said = run(0, concat(new String[] {"submit", "--scheduler", "k8s", "--workers", "6", "--out", out.toString(), "--image", "registry.example/shears:0.1",
                "--pvc", "sweeps", "--cpus-per-task", "4", "--mem", "8G"}, PLAN));
        Path f = out.resolve("k8s/sweep-job.yaml");
        assertTrue(said.contains("kubectl apply -f " + f), said);
        String y = Files.readString(f, StandardCharsets.UTF_8);
        for (String line : List.of("kind: Job", "  completionMode: Indexed", "  completions: 6", "  parallelism: 6", "        image: \"registry.example/shears:0.1\"",
                "          claimName: \"sweeps\"", "        workingDir: \"/shears\"", "          mountPath: \"/shears\"", "            cpu: \"4\"",
                "            memory: \"8Gi\"", "        - name: SHEARS_SHARD_COUNT", "          value: \"6\"", "      restartPolicy: OnFailure")) {
            assertTrue(y.lines().anyMatch(l -> l.equals(line)), "missing '" + line + "' in\n" + y);
        }
        assertTrue(y.matches("(?s).*metadata:\n  name: shears-custom-[0-9a-f]{6}\n.*"), y);
        List<String> args = y.lines().dropWhile(l -> !l.equals("        args:")).skip(1).takeWhile(l -> l.startsWith("        - "))
                .map(l -> l.substring(11, l.length() - 1)).toList();
        assertEquals("experiment", args.getFirst());
        assertTrue(String.join(" ", args).endsWith("--out " + out + " --shard auto --shard-count 6 --threads 4"), String.join(" ", args));
        ExperimentCommand worker = new ExperimentCommand();
        new CommandLine(worker).parseArgs(args.subList(1, args.size()).toArray(String[]::new));
        assertEquals(WorkFolder.read(out).json(), worker.plan().json());

        String e = run(2, concat(new String[] {"submit", "--scheduler", "k8s", "--workers", "2", "--out", out.toString(), "--pvc", "x"}, PLAN));
        assertTrue(e.contains("needs --image"), e);
    }

    @Test
    void theStatusOfAFolderWithoutASweepIsAClearError(@TempDir Path tmp) {
        assertEquals(2, Main.run("experiment", "status", "--out", tmp.toString()));
    }

    /** Splits a line of shell words written by {@link SchedulerFiles#shellWord}. */
    static List<String> shellSplit(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false, any = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted) {
                if (c == '\'') quoted = false;
                else w.append(c);
            } else if (c == '\'') {
                quoted = true;
                any = true;
            } else if (c == '\\' && i + 1 < s.length()) {
                w.append(s.charAt(++i));
            } else if (c == ' ') {
                if (any || !w.isEmpty()) out.add(w.toString());
                w.setLength(0);
                any = false;
            } else {
                w.append(c);
            }
        }
        if (any || !w.isEmpty()) out.add(w.toString());
        return out;
    }
}
