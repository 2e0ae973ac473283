package dev.shears.cli;

/**
 * {@code shears prune --method rank}: structured rank pruning of FastGRNN is the rnn branch's
 * {@code dev.shears.pruning.rnn.RankPruning}; until that is in this build the method is a
 * one-line "not available" error. Pinned by PruneCliTest.
 */
final class RankCli {
    private RankCli() {}

    static void unavailable() {
        throw new UserError("--method rank is not available in this build: structured rank pruning (dev.shears.pruning.rnn.RankPruning)"
                + " comes with the rnn branch, which is not merged yet");
    }
}
