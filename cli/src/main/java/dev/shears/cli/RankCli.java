package dev.shears.cli;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * {@code shears prune --method rank}: structured rank pruning of a low-rank FastGRNN (the paper's
 * T-FGRNN), W and U to {@code --rank-w} and {@code --rank-u} components, by the rnn branch's
 * {@code dev.shears.pruning.rnn.RankPruning.prune(model, rankW, rankU, score, ws)}. That class is
 * looked up at run time because the rnn branch does not build against the current nn yet; once
 * it is merged, replace the lookup with the direct call. Without it, one "not available" line.
 * Pinned by PruneCliTest.
 */
final class RankCli {
    static final String CLASS = "dev.shears.pruning.rnn.RankPruning";

    private RankCli() {}

    static boolean available() {
        try {
            Class.forName(CLASS);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** Prunes the ranks, masks owned by {@code ws}; returns RankPruning's one-line summary. */
    static String prune(Model model, int rankW, int rankU, String score, Workspace ws) {
        if (!available()) {
            throw new UserError("--method rank is not available in this build: structured rank pruning (" + CLASS
                    + ") comes with the rnn branch, which is not merged yet");
        }
        try {
            Class<?> rank = Class.forName(CLASS);
            Class<?> scoreType = Class.forName(CLASS + "$Score");
            Object s = scoreType.getMethod("parse", String.class).invoke(null, score);
            Method prune = rank.getMethod("prune", Model.class, int.class, int.class, scoreType, Workspace.class);
            Object result = prune.invoke(null, model, rankW, rankU, s, ws);
            return (String) result.getClass().getMethod("summary").invoke(result);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof IllegalArgumentException iae) throw new UserError(iae.getMessage());
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new UserError("--method rank: " + CLASS + " in this build does not have the expected API (" + e + ")");
        }
    }
}
