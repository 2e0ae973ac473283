package dev.shears.nn.optim;

import dev.shears.nn.Parameter;

/** Which parameters the "no decay on norm and bias" option exempts: 1-D ones (biases, BN scale/shift). */
final class Decay {
    private Decay() {}

    static boolean isNormOrBias(Parameter p) {
        return p.shape().length <= 1 || p.name().endsWith(".bias");
    }
}
