// Shared helpers for the compute shaders.

// erf(x) for the exact GELU (GLSL has no erf): a Taylor series for |x| < 0.5 (error < 2e-8) and Numerical
// Recipes' erfc rational approximation beyond (relative error < 1.2e-7). Absolute error below 1e-7 everywhere.
float erf_approx(float x) {
  float ax = abs(x);
  float r;
  if (ax < 0.5) {
    float x2 = ax * ax;
    r = ax * (1.1283791671 + x2 * (-0.3761263890 + x2 * (0.1128379167 + x2 * (-0.0268661706 + x2 * (0.0052239776 + x2 * -0.0008548327)))));
  } else {
    // erfc(x) = t * exp(-x^2 + P(t))
    float t = 1.0 / (1.0 + 0.5 * ax);
    float p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
              t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    r = 1.0 - t * exp(-ax * ax + p);
  }
  return x < 0.0 ? -r : r;
}

// Exact (erf) GELU, as BERT's hidden_act "gelu".
float gelu(float x) { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752)); }

// tanh that cannot overflow for large |x|.
float safe_tanh(float x) { return tanh(clamp(x, -15.0, 15.0)); }

#define ACT_NONE 0
#define ACT_GELU 1
#define ACT_TANH 2
#define ACT_RELU 3

float activate(float x, int act) {
  if (act == ACT_GELU) return gelu(x);
  if (act == ACT_TANH) return safe_tanh(x);
  if (act == ACT_RELU) return max(x, 0.0);
  return x;
}

// d act(x) / dx, for the backward pass.
float activation_slope(float x, int act) {
  if (act == ACT_GELU) return 0.5 * (1.0 + erf_approx(x * 0.70710678118654752)) + x * exp(-0.5 * x * x) * 0.3989422804014327;
  if (act == ACT_TANH) { float t = safe_tanh(x); return 1.0 - t * t; }
  if (act == ACT_RELU) return x > 0.0 ? 1.0 : 0.0;
  return 1.0;
}
