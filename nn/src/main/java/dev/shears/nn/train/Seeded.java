package dev.shears.nn.train;

/**
 * A model with randomness inside (dropout) implements this so that randomness is a function of
 * (seed, epoch): the trainer calls {@link #reseed} at the start of every epoch, which is what makes
 * a run resumed at an epoch boundary identical to an uninterrupted one without saving RNG state.
 */
public interface Seeded {
    /** Resets the model's random streams for {@code epoch} (0-based) of a run with {@code seed}. */
    void reseed(long seed, int epoch);
}
