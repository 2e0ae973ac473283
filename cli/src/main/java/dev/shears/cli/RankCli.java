package dev.shears.cli;

import dev.shears.engine.Workspace;
import dev.shears.nn.Model;
import dev.shears.pruning.rnn.RankPruning;

/**
 * {@code shears prune --method rank}: structured rank pruning of a low-rank FastGRNN (the rnn
 * module's {@link RankPruning}, the paper's T-FGRNN), W and U to {@code --rank-w} and
 * {@code --rank-u} components; its errors (a model without factors, a rank out of range) are
 * one line. Pinned by PruneCliTest.
 */
final class RankCli {
    private RankCli() {}

    /** Prunes the ranks, masks owned by {@code ws}; returns RankPruning's one-line summary. */
    static String prune(Model model, int rankW, int rankU, String score, Workspace ws) {
        try {
            return RankPruning.prune(model, rankW, rankU, RankPruning.Score.parse(score), ws).summary();
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }
}
