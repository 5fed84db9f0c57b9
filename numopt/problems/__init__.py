"""Where problems come from: CUTEst (S2MPJ), LIBSVM data, PDE discretizations and simulators."""
