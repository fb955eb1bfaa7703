/* _nnstudio_sgd (source nnstudio/core/_sgd.c): one mini-batch of stochastic gradient descent, in C.
 *
 * An optional accelerator for nnstudio.core.trainer.  The trainer's NumPy loop is the
 * reference (and the fallback when this module is not built); this kernel does the same maths
 * on the same parameter buffer (equal to rounding: it adds in another order, with fused
 * multiply-adds and its own exp), in one call per mini-batch, Kernel.step:
 *
 *   forward   z = W a + b,  a = f(z)          (sigmoid, tanh or ReLU; output sigmoid)
 *   output    δ = 2(a − y)·σ'(z)  (quadratic, C = Σ(a − y)²)   or   δ = a − y  (cross-entropy)
 *   backward  δ_prev = (Wᵀ δ)·f'(z_prev), using the weights from before the step
 *   update    W ← shrink·W − (η/m) Σ_examples a δᵀ,   b ← b − (η/m) Σ δ
 *
 * Why it is fast: the step runs layer by layer over the whole mini-batch, the first layer as a sparse
 * product that skips each image's zero pixels (about four fifths of an MNIST digit is background)
 * and reads the uint8 pixels directly, the others through a small register-blocked matrix product;
 * the sigmoid is vectorised; and the whole step is one call, so none of NumPy's per-call overhead
 * on tiny arrays.  It releases the GIL while it works, so the GUI thread can paint while the worker
 * trains.  Kernel.forward runs the same forward pass over a test set (the epoch's evaluation).
 * docs/performance.md has the figures and where the time goes.
 *
 * Layout (as nnstudio.core.network.Network.buffer): layer l's parameters are a row-major
 * (n_in + 1, n_out) block, weights first (row p = the weights from input neuron p), the
 * biases as the last row; the blocks follow each other in one flat float64 array.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 64

enum { ACT_SIGMOID = 0, ACT_TANH = 1, ACT_RELU = 2 };
enum { COST_QUADRATIC = 0, COST_CROSS_ENTROPY = 1 };

/* (building with -DNNSTUDIO_PLAIN_C gives the plain C loops that compilers other than GCC and clang
 * get, to test them) */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(NNSTUDIO_PLAIN_C)
/* one build, two versions of the step: AVX2+FMA where the CPU has them (chosen at import
 * time, unless $NNSTUDIO_KERNEL is "baseline"), the compiler's baseline otherwise */
#define HAVE_AVX2_CLONE 1
#define INLINE static inline __attribute__((always_inline))
#include <immintrin.h>
#else
#define HAVE_AVX2_CLONE 0
#define INLINE static inline
#endif
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define PREFETCH(p) ((void)0)
#endif

/* a step's work space, for up to work_m examples */
typedef struct {
    double *work; /* activations and deltas of the mini-batch */
    double *wt;   /* one layer's weights transposed */
    /* the mini-batch's non-zero inputs (CSR): example i's are [rowptr[i], rowptr[i + 1]) of nzi and
     * of nzp (uint8 inputs: the pixels) or nzv (float inputs: the values) */
    Py_ssize_t *rowptr;
    int32_t *nzi;
    uint8_t *nzp;
    double *nzv;
    /* the same grouped by pixel (see ByPixel), allocated when first needed, for by_pixel_cap entries */
    Py_ssize_t *colptr;
    int32_t *ex, *pix;
    double *exv;
    Py_ssize_t by_pixel_cap;
} Buffers;

static void free_buffers(Buffers *b) {
    free(b->work);
    free(b->wt);
    free(b->rowptr);
    free(b->nzi);
    free(b->nzp);
    free(b->nzv);
    free(b->colptr);
    free(b->ex);
    free(b->pix);
    free(b->exv);
    memset(b, 0, sizeof *b);
}

/* room for nnz entries grouped by pixel (n0 pixels): sized by the batch's real count of non-zero
 * inputs, not the worst case (a fifth of it on MNIST); 0 if the memory cannot be had (the update
 * then goes example by example).  Called without the GIL: malloc needs none. */
static int reserve_by_pixel(Buffers *b, Py_ssize_t nnz, Py_ssize_t n0) {
    if (!b->colptr) {
        b->colptr = (Py_ssize_t *)malloc((size_t)(n0 + 1) * sizeof(Py_ssize_t));
        b->pix = (int32_t *)malloc((size_t)n0 * sizeof(int32_t));
    }
    if (nnz > b->by_pixel_cap) {
        free(b->ex);
        free(b->exv);
        b->by_pixel_cap = nnz + nnz / 4 + 64;
        b->ex = (int32_t *)malloc((size_t)b->by_pixel_cap * sizeof(int32_t));
        b->exv = (double *)malloc((size_t)b->by_pixel_cap * sizeof(double));
    }
    if (b->colptr && b->pix && b->ex && b->exv) return 1;
    free(b->ex);
    free(b->exv);
    b->ex = NULL;
    b->exv = NULL;
    b->by_pixel_cap = 0;
    return 0;
}

typedef struct {
    PyObject_HEAD
    Py_buffer params;  /* float64, writable, contiguous */
    Py_buffer x;       /* uint8 or float64, (N, n0), C-contiguous */
    Py_buffer perm;    /* intp (N,) */
    Py_buffer targets; /* float64 (N, n_out), C-contiguous, in perm order */
    int have_params, have_x, have_epoch, busy;
    int L;
    int x_u8;
    int cost;
    Py_ssize_t N;
    Py_ssize_t sizes[MAX_LAYERS + 1];
    Py_ssize_t offset[MAX_LAYERS];
    int act[MAX_LAYERS];
    Buffers b;
    Py_ssize_t work_m; /* the largest mini-batch the buffers hold */
    double u8_scale[256];
} Kernel;

static void release(Kernel *k) {
    if (k->have_params) PyBuffer_Release(&k->params);
    if (k->have_x) PyBuffer_Release(&k->x);
    if (k->have_epoch) {
        PyBuffer_Release(&k->perm);
        PyBuffer_Release(&k->targets);
    }
    k->have_params = k->have_x = k->have_epoch = 0;
    free_buffers(&k->b);
    k->work_m = 0;
}

static void Kernel_dealloc(Kernel *k) {
    release(k);
    Py_TYPE(k)->tp_free((PyObject *)k);
}

/* Kernel(params, sizes, activations, cost, x) */
static int Kernel_init(Kernel *k, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"params", "sizes", "activations", "cost", "x", NULL};
    PyObject *params, *sizes, *acts, *x;
    int cost;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOiO", kwlist, &params, &sizes, &acts, &cost, &x))
        return -1;
    release(k);
    Py_ssize_t ns = PySequence_Size(sizes), na = PySequence_Size(acts);
    if (ns < 2 || ns > MAX_LAYERS + 1 || na != ns - 1) {
        PyErr_SetString(PyExc_ValueError, "sizes must have 2..65 entries and activations one fewer");
        return -1;
    }
    k->L = (int)(ns - 1);
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < ns; i++) {
        PyObject *o = PySequence_GetItem(sizes, i);
        if (!o) return -1;
        Py_ssize_t v = PyLong_AsSsize_t(o);
        Py_DECREF(o);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (v < 1) {
            PyErr_SetString(PyExc_ValueError, "layer sizes must be positive");
            return -1;
        }
        k->sizes[i] = v;
    }
    for (int l = 0; l < k->L; l++) {
        PyObject *o = PySequence_GetItem(acts, l);
        if (!o) return -1;
        long v = PyLong_AsLong(o);
        Py_DECREF(o);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (v < ACT_SIGMOID || v > ACT_RELU) {
            PyErr_SetString(PyExc_ValueError, "unknown activation code");
            return -1;
        }
        k->act[l] = (int)v;
        k->offset[l] = total;
        total += (k->sizes[l] + 1) * k->sizes[l + 1];
    }
    if (cost != COST_QUADRATIC && cost != COST_CROSS_ENTROPY) {
        PyErr_SetString(PyExc_ValueError, "unknown cost code");
        return -1;
    }
    k->cost = cost;
    if (PyObject_GetBuffer(params, &k->params, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) return -1;
    k->have_params = 1;
    if (strcmp(k->params.format, "d") != 0 || k->params.len != total * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "params must be a contiguous float64 buffer of the network's size");
        return -1;
    }
    if (PyObject_GetBuffer(x, &k->x, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS | PyBUF_ND) < 0) return -1;
    k->have_x = 1;
    const char *f = k->x.format;
    if (k->x.ndim != 2 || k->x.shape[1] != k->sizes[0]) {
        PyErr_SetString(PyExc_ValueError, "x must be a 2-D (N, n_in) array");
        return -1;
    }
    if (strcmp(f, "B") == 0) k->x_u8 = 1;
    else if (strcmp(f, "d") == 0) k->x_u8 = 0;
    else {
        PyErr_SetString(PyExc_ValueError, "x must be uint8 or float64");
        return -1;
    }
    if (k->sizes[0] > 65535) { /* (the trainer's limit; the kernel's indices are int32) */
        PyErr_SetString(PyExc_ValueError, "at most 65,535 inputs");
        return -1;
    }
    k->N = k->x.shape[0];
    for (int v = 0; v < 256; v++) k->u8_scale[v] = v * (1.0 / 255.0); /* as nonzero_u8_avx2 computes it */
    return 0;
}

/* set_epoch(perm, targets): the order of this epoch and the desired outputs in that order */
static PyObject *Kernel_set_epoch(Kernel *k, PyObject *args) {
    PyObject *perm, *targets;
    if (!PyArg_ParseTuple(args, "OO", &perm, &targets)) return NULL;
    if (k->busy) {
        PyErr_SetString(PyExc_RuntimeError, "kernel is busy");
        return NULL;
    }
    if (k->have_epoch) {
        PyBuffer_Release(&k->perm);
        PyBuffer_Release(&k->targets);
        k->have_epoch = 0;
    }
    if (PyObject_GetBuffer(perm, &k->perm, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS | PyBUF_ND) < 0) return NULL;
    if (PyObject_GetBuffer(targets, &k->targets, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS | PyBUF_ND) < 0) {
        PyBuffer_Release(&k->perm);
        return NULL;
    }
    k->have_epoch = 1;
    Py_ssize_t n_out = k->sizes[k->L];
    int ok = k->perm.ndim == 1 && k->perm.shape[0] == k->N && k->perm.itemsize == sizeof(Py_ssize_t)
             && (strcmp(k->perm.format, "l") == 0 || strcmp(k->perm.format, "q") == 0 || strcmp(k->perm.format, "n") == 0)
             && k->targets.ndim == 2 && k->targets.shape[0] == k->N && k->targets.shape[1] == n_out
             && strcmp(k->targets.format, "d") == 0;
    if (ok) {
        const Py_ssize_t *p = (const Py_ssize_t *)k->perm.buf;
        for (Py_ssize_t i = 0; i < k->N; i++)
            if (p[i] < 0 || p[i] >= k->N) { ok = 0; break; }
    }
    if (!ok) {
        PyBuffer_Release(&k->perm);
        PyBuffer_Release(&k->targets);
        k->have_epoch = 0;
        PyErr_SetString(PyExc_ValueError, "perm must be an intp permutation of range(N) and targets (N, n_out) float64");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- the maths
 *
 * The step works layer by layer on the whole mini-batch (not example by example), so that every
 * weight it loads serves several examples while it is in a register or in L1/L2:
 *
 *   - the first layer is a sparse × dense product: each example's non-zero pixels (found 64 at a
 *     time, see nonzero_u8) times the rows of W₁, a tile of up to 32 outputs kept in registers;
 *     the same tile of W₁ serves every example of the batch before the next tile is touched;
 *   - the other layers are dense products through a small register-blocked kernel (gemm: 4
 *     examples × 8 outputs per block, the weights' panel reused by every block of examples);
 *   - the sigmoid is vectorised (exp_vec: exp by range reduction and a degree-13 polynomial,
 *     within 2 ulp of libm's exp).
 *
 * The vector code uses GCC/clang vector extensions (4 doubles: AVX2 in the avx2 clone, pairs of
 * SSE2 registers in the baseline build); other compilers get the plain C loops below them.
 */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(NNSTUDIO_PLAIN_C)
#define HAVE_VEC 1
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4i __attribute__((vector_size(32)));
INLINE v4d ld4(const double *p) { v4d v; memcpy(&v, p, sizeof v); return v; }
INLINE void st4(double *p, v4d v) { memcpy(p, &v, sizeof v); }
INLINE v4d bc4(double s) { return s * (v4d){1, 1, 1, 1}; } /* (GCC 12 builds {s, s, s, s} lane by lane) */
INLINE v4d sel4(v4i mask, v4d yes, v4d no) { return (v4d)(((v4i)yes & mask) | ((v4i)no & ~mask)); }
/* 2 doubles: the tail of a row whose width is 2 or 3 past a multiple of 4 */
typedef double v2d __attribute__((vector_size(16)));
INLINE v2d ld2(const double *p) { v2d v; memcpy(&v, p, sizeof v); return v; }
INLINE void st2(double *p, v2d v) { memcpy(p, &v, sizeof v); }
INLINE v2d bc2(double s) { return s * (v2d){1, 1}; }
#else
#define HAVE_VEC 0
#endif

/* e^x: x = k ln2 + r (|r| <= ln2/2), e^r by its Taylor polynomial of degree 13 (error < 1e-17),
 * 2^k applied in two halves so that k may reach -1075 (e^x then underflows to 0) or 1024 (inf) */
#define EXP_POLY(r)                                                                                     \
    (1.0 + (r) * (1.0 + (r) * (1.0 / 2 + (r) * (1.0 / 6 + (r) * (1.0 / 24 + (r) * (1.0 / 120 + (r) *     \
    (1.0 / 720 + (r) * (1.0 / 5040 + (r) * (1.0 / 40320 + (r) * (1.0 / 362880 + (r) * (1.0 / 3628800 +  \
    (r) * (1.0 / 39916800 + (r) * (1.0 / 479001600 + (r) * (1.0 / 6227020800.0))))))))))))))
#define EXP_LOG2E 1.4426950408889634
#define EXP_LN2HI 6.93147180369123816490e-01
#define EXP_LN2LO 1.90821492927058770002e-10
#define EXP_MAGIC 6755399441055744.0 /* 1.5 × 2^52: adding it rounds to an integer */

INLINE double exp_scalar(double x) {
    /* the same operations as exp_vec, one lane (keeps NaN: comparisons with NaN are false) */
    x = x > 709.0 ? 709.0 : x;
    x = x < -745.0 ? -745.0 : x;
    double kf = (x * EXP_LOG2E + EXP_MAGIC) - EXP_MAGIC;
    double r = (x - kf * EXP_LN2HI) - kf * EXP_LN2LO;
    double k1 = (kf * 0.5 - 0.25 + EXP_MAGIC) - EXP_MAGIC; /* floor(k / 2) */
    return EXP_POLY(r) * ldexp(1.0, (int)k1) * ldexp(1.0, (int)(kf - k1));
}

#if HAVE_VEC
INLINE v4d exp_vec(v4d x) {
    const v4d hi = bc4(709.0), lo = bc4(-745.0), magic = bc4(EXP_MAGIC);
    x = sel4(x > hi, hi, x); /* NaN stays NaN */
    x = sel4(x < lo, lo, x);
    v4d kf = (x * EXP_LOG2E + magic) - magic;
    v4d r = (x - kf * EXP_LN2HI) - kf * EXP_LN2LO;
    v4d k1 = (kf * 0.5 - 0.25 + magic) - magic;
    v4d k2 = kf - k1;
    /* 2^k: (k + 1023) in the exponent bits; k + 1023 + 1.5·2^52 has k + 1023 in its low bits */
    v4d s1 = (v4d)(((v4i)(k1 + (1023.0 + EXP_MAGIC))) << 52);
    v4d s2 = (v4d)(((v4i)(k2 + (1023.0 + EXP_MAGIC))) << 52);
    return EXP_POLY(r) * s1 * s2;
}
#endif

INLINE void activate(double *a, Py_ssize_t n, int act) {
    Py_ssize_t j = 0;
    switch (act) {
    case ACT_SIGMOID:
#if HAVE_VEC
        for (; j + 4 <= n; j += 4) st4(a + j, 1.0 / (1.0 + exp_vec(-ld4(a + j))));
#endif
        for (; j < n; j++) a[j] = 1.0 / (1.0 + exp_scalar(-a[j]));
        break;
    case ACT_TANH:
        for (; j < n; j++) a[j] = tanh(a[j]);
        break;
    default: /* ReLU; NaN stays NaN so a blow-up is seen */
        for (; j < n; j++) a[j] = (a[j] > 0.0 || a[j] != a[j]) ? a[j] : 0.0;
    }
}

/* d *= f'(z), given a = f(z) */
INLINE void times_fprime(double *restrict d, const double *restrict a, Py_ssize_t n, int act) {
    switch (act) {
    case ACT_SIGMOID:
        for (Py_ssize_t j = 0; j < n; j++) d[j] *= a[j] * (1.0 - a[j]);
        break;
    case ACT_TANH:
        for (Py_ssize_t j = 0; j < n; j++) d[j] *= 1.0 - a[j] * a[j];
        break;
    default:
        for (Py_ssize_t j = 0; j < n; j++) d[j] *= a[j] > 0.0 ? 1.0 : 0.0;
    }
}

/* ---- the first layer: sparse inputs */

/* The non-zero pixels of one uint8 image: their indices and their values.  64 pixels at a
 * time: a bit per non-zero byte, then one index per set bit (few branches, none per pixel). */
INLINE Py_ssize_t nonzero_u8(const uint8_t *row, Py_ssize_t n0, int32_t *idx, uint8_t *px) {
    Py_ssize_t c = 0, p = 0;
#if HAVE_VEC && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
    for (; p + 64 <= n0; p += 64) {
        uint64_t mask = 0;
        for (int w = 0; w < 8; w++) {
            uint64_t x;
            memcpy(&x, row + p + 8 * w, 8);
            uint64_t hi = (((x & low7) + low7) | x) & ~low7; /* the top bit of each non-zero byte */
            mask |= (((hi >> 7) * 0x0102040810204080ULL) >> 56) << (8 * w);
        }
        if (!mask) continue;
        /* eight indices per round, whatever the count (a loop per bit mispredicts its exit): past
         * the last set bit the sentinel writes p + 63 beyond the count, into the buffer's slack */
        int32_t *o = idx + c, *end = o + __builtin_popcountll(mask);
        const uint64_t sentinel = 1ULL << 63;
        c = end - idx;
        do {
            for (int u = 0; u < 8; u++) {
                o[u] = (int32_t)(p + __builtin_ctzll(mask | sentinel));
                mask &= mask - 1;
            }
            o += 8;
        } while (o < end);
    }
#endif
    for (; p < n0; p++) {
        idx[c] = (int32_t)p;
        c += row[p] != 0;
    }
    for (Py_ssize_t q = 0; q < c; q++) px[q] = row[idx[q]];
    return c;
}

#if HAVE_AVX2_CLONE
/* lp_table[b]: the positions of the set bits of b, packed first (the rest 0x80: pshufb then gives 0) */
static uint8_t lp_table[256][8];

static void init_lp_table(void) {
    for (int b = 0; b < 256; b++) {
        int c = 0;
        for (int j = 0; j < 8; j++) lp_table[b][j] = 0x80;
        for (int j = 0; j < 8; j++)
            if (b & (1 << j)) lp_table[b][c++] = (uint8_t)j;
    }
}

/* nonzero_u8 with AVX2, no branch per pixel or per bit: 32 pixels compared at once, then per 8
 * pixels one table look-up gives the packed positions, pshufb packs the pixel values, and 8 indices
 * and 8 values are stored whatever the count (the extra ones land beyond the count, in the slack).
 * The values stay bytes here: the sparse loops look their / 255 up in a table. */
__attribute__((target("avx2,fma,popcnt,bmi,bmi2")))
static Py_ssize_t nonzero_u8_avx2(const uint8_t *row, Py_ssize_t n0, int32_t *idx, uint8_t *px) {
    Py_ssize_t c = 0, p = 0;
    for (; p + 32 <= n0; p += 32) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(row + p));
        const uint32_t nz = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_setzero_si256()));
        if (!nz) continue;
        for (int g = 0; g < 4; g++) {
            const unsigned bits = (nz >> (8 * g)) & 0xffu;
            const __m128i shuf = _mm_loadl_epi64((const __m128i *)lp_table[bits]);
            _mm_storel_epi64((__m128i *)(px + c),
                             _mm_shuffle_epi8(_mm_loadl_epi64((const __m128i *)(row + p + 8 * g)), shuf));
            _mm256_storeu_si256((__m256i *)(idx + c),
                                _mm256_add_epi32(_mm256_cvtepu8_epi32(shuf), _mm256_set1_epi32((int)(p + 8 * g))));
            c += __builtin_popcount(bits);
        }
    }
    for (; p < n0; p++) {
        idx[c] = (int32_t)p;
        px[c] = row[p];
        c += row[p] != 0;
    }
    return c;
}
#endif

INLINE Py_ssize_t nonzero_f64(const double *row, Py_ssize_t n0, int32_t *idx, double *val) {
    Py_ssize_t c = 0;
    for (Py_ssize_t p = 0; p < n0; p++) {
        idx[c] = (int32_t)p;
        val[c] = row[p];
        c += row[p] != 0.0;
    }
    return c;
}

/* A mini-batch's non-zero inputs: example i's are entries [rowptr[i], rowptr[i + 1]) of idx (their
 * positions) and of px (uint8 inputs: the value is scale[px], the pixel / 255) or val (float inputs). */
typedef struct {
    Py_ssize_t *rowptr;
    int32_t *idx;
    uint8_t *px;
    double *val;
    const double *scale;
} Sparse;

/* the value of entry q (u8 is a constant where this is inlined: one of the two loads remains) */
#define SP_VALUE(u8, px, val, scale, q) ((u8) ? (scale)[(px)[q]] : (val)[q])

/* z[0..4·NV + 2·T2) = bias + Σ_q value[q] · W[idx[q]], the sums in registers (two sets when they
 * are few, so that the additions of two pixels overlap) */
INLINE void sparse_dot_tile(const int NV, const int T2, const int u8, double *z, const double *bias, const double *W,
                            Py_ssize_t ldw, const int32_t *idx, const uint8_t *px, const double *val,
                            const double *scale, Py_ssize_t c) {
#if HAVE_VEC
    const int tail = 4 * NV;
    v4d acc[8], acc2[8];
    v2d t = T2 ? ld2(bias + tail) : bc2(0.0), t2 = bc2(0.0);
    for (int v = 0; v < NV; v++) {
        acc[v] = ld4(bias + 4 * v);
        acc2[v] = bc4(0.0);
    }
    Py_ssize_t q = 0;
    if (NV <= 4) {
        for (; q + 2 <= c; q += 2) {
            const double *w0 = W + idx[q] * ldw, *w1 = W + idx[q + 1] * ldw;
            const double s0 = SP_VALUE(u8, px, val, scale, q), s1 = SP_VALUE(u8, px, val, scale, q + 1);
            for (int v = 0; v < NV; v++) {
                acc[v] += bc4(s0) * ld4(w0 + 4 * v);
                acc2[v] += bc4(s1) * ld4(w1 + 4 * v);
            }
            if (T2) {
                t += bc2(s0) * ld2(w0 + tail);
                t2 += bc2(s1) * ld2(w1 + tail);
            }
        }
    }
    for (; q < c; q++) {
        const double *w0 = W + idx[q] * ldw;
        const double s0 = SP_VALUE(u8, px, val, scale, q);
        for (int v = 0; v < NV; v++) acc[v] += bc4(s0) * ld4(w0 + 4 * v);
        if (T2) t += bc2(s0) * ld2(w0 + tail);
    }
    for (int v = 0; v < NV; v++) st4(z + 4 * v, NV <= 4 ? acc[v] + acc2[v] : acc[v]);
    if (T2) st2(z + tail, NV <= 4 ? t + t2 : t);
#else
    (void)NV, (void)T2, (void)u8, (void)z, (void)bias, (void)W, (void)ldw, (void)idx, (void)px, (void)val,
        (void)scale, (void)c;
#endif
}

/* the columns [j, j + w) of z = bias + Σ value · W[idx], one column at a time (the ragged end) */
INLINE void sparse_dot_cols(const int u8, Py_ssize_t w, double *z, const double *bias, const double *W,
                            Py_ssize_t ldw, const int32_t *idx, const uint8_t *px, const double *val,
                            const double *scale, Py_ssize_t c) {
    for (Py_ssize_t j = 0; j < w; j++) {
        double s = bias[j];
        for (Py_ssize_t q = 0; q < c; q++) s += SP_VALUE(u8, px, val, scale, q) * W[idx[q] * ldw + j];
        z[j] = s;
    }
}

/* W[idx[q]][0..4·NV + 2·T2) += value[q] · d, the tile of d in registers */
INLINE void sparse_update_tile(const int NV, const int T2, const int u8, double *W, Py_ssize_t ldw, const double *d,
                               const int32_t *idx, const uint8_t *px, const double *val, const double *scale,
                               Py_ssize_t c) {
#if HAVE_VEC
    const int tail = 4 * NV;
    v4d dv[8];
    const v2d dt = T2 ? ld2(d + tail) : bc2(0.0);
    for (int v = 0; v < NV; v++) dv[v] = ld4(d + 4 * v);
    for (Py_ssize_t q = 0; q < c; q++) {
        double *w = W + idx[q] * ldw;
        const double s = SP_VALUE(u8, px, val, scale, q);
        for (int v = 0; v < NV; v++) st4(w + 4 * v, ld4(w + 4 * v) + bc4(s) * dv[v]);
        if (T2) st2(w + tail, ld2(w + tail) + bc2(s) * dt);
    }
#else
    (void)NV, (void)T2, (void)u8, (void)W, (void)ldw, (void)d, (void)idx, (void)px, (void)val, (void)scale, (void)c;
#endif
}

INLINE void sparse_update_cols(const int u8, Py_ssize_t w, double *W, Py_ssize_t ldw, const double *d,
                               const int32_t *idx, const uint8_t *px, const double *val, const double *scale,
                               Py_ssize_t c) {
    for (Py_ssize_t q = 0; q < c; q++) {
        double *row = W + idx[q] * ldw;
        const double s = SP_VALUE(u8, px, val, scale, q);
        for (Py_ssize_t j = 0; j < w; j++) row[j] += s * d[j];
    }
}

/* The next tile of a row with `left` columns to go: nv 4-wide vectors (up to `most`) and, when what
 * follows is 2 or 3 columns, a 2-wide vector (*t2) in the same pass; returns its width.  0 vectors
 * and no tail: the ragged end, one column at a time. */
INLINE Py_ssize_t tile_plan(Py_ssize_t left, int most, int *nv, int *t2) {
#if HAVE_VEC
    int v = left >= 32 ? 8 : left >= 16 ? 4 : left >= 8 ? 2 : left >= 4 ? 1 : 0;
    if (v > most) v = most;
    const Py_ssize_t rest = left - 4 * v;
    *nv = v;
    *t2 = rest == 2 || rest == 3;
    return v || *t2 ? 4 * v + 2 * *t2 : left;
#else
    (void)most;
    *nv = *t2 = 0;
    return left;
#endif
}

/* The first layer over the batch's sparse rows, a tile of up to 32 columns at a time for every
 * example (so that the tile of W stays in L1/L2): the forward Z (m × n1) = bias + X W, or with
 * update set W += Xᵀ D (D is already −η/m × the deltas) */
INLINE void sparse_tiles(const int update, const int u8, Py_ssize_t m, Py_ssize_t n1, double *W, const double *bias,
                         double *ZD, const Sparse *sp) {
    for (Py_ssize_t j = 0; j < n1;) {
        int nv, t2;
        const Py_ssize_t w = tile_plan(n1 - j, 8, &nv, &t2);
        for (Py_ssize_t i = 0; i < m; i++) {
            const Py_ssize_t r0 = sp->rowptr[i], c = sp->rowptr[i + 1] - r0;
            const int32_t *idx = sp->idx + r0;
            const uint8_t *px = u8 ? sp->px + r0 : NULL;
            const double *val = u8 ? NULL : sp->val + r0;
            double *zd = ZD + i * n1 + j;
#define SPARSE_TILE(NV, T2)                                                                                \
    (update ? sparse_update_tile(NV, T2, u8, W + j, n1, zd, idx, px, val, sp->scale, c)                   \
            : sparse_dot_tile(NV, T2, u8, zd, bias + j, W + j, n1, idx, px, val, sp->scale, c))
            switch (nv * 2 + t2) {
            case 16: SPARSE_TILE(8, 0); break;
            case 17: SPARSE_TILE(8, 1); break;
            case 8: SPARSE_TILE(4, 0); break;
            case 9: SPARSE_TILE(4, 1); break;
            case 4: SPARSE_TILE(2, 0); break;
            case 5: SPARSE_TILE(2, 1); break;
            case 2: SPARSE_TILE(1, 0); break;
            case 3: SPARSE_TILE(1, 1); break;
            case 1: SPARSE_TILE(0, 1); break;
            default:
                if (update) sparse_update_cols(u8, w, W + j, n1, zd, idx, px, val, sp->scale, c);
                else sparse_dot_cols(u8, w, zd, bias + j, W + j, n1, idx, px, val, sp->scale, c);
            }
#undef SPARSE_TILE
        }
        j += w;
    }
}

/* The batch's entries grouped by pixel (CSC): pixel p's are [colptr[p], colptr[p + 1]) of ex (the
 * example) and value, in the examples' order; pix lists the n_pix pixels that have any. */
typedef struct {
    Py_ssize_t *colptr;
    int32_t *ex, *pix;
    double *value;
    Py_ssize_t n_pix;
} ByPixel;

INLINE void group_by_pixel(const int u8, Py_ssize_t m, Py_ssize_t n0, const Sparse *sp, ByPixel *bp) {
    Py_ssize_t *colptr = bp->colptr;
    memset(colptr, 0, (size_t)(n0 + 1) * sizeof(Py_ssize_t));
    const Py_ssize_t nnz = sp->rowptr[m];
    for (Py_ssize_t q = 0; q < nnz; q++) colptr[sp->idx[q] + 1]++;
    Py_ssize_t n_pix = 0;
    for (Py_ssize_t p = 0; p < n0; p++) {
        bp->pix[n_pix] = (int32_t)p;
        n_pix += colptr[p + 1] != 0;
        colptr[p + 1] += colptr[p];
    }
    bp->n_pix = n_pix;
    for (Py_ssize_t i = 0; i < m; i++) /* colptr[p] moves to the end of p's entries, then back */
        for (Py_ssize_t q = sp->rowptr[i]; q < sp->rowptr[i + 1]; q++) {
            const Py_ssize_t e = colptr[sp->idx[q]]++;
            bp->ex[e] = (int32_t)i;
            bp->value[e] = SP_VALUE(u8, sp->px, sp->val, sp->scale, q);
        }
    for (Py_ssize_t p = n0; p > 0; p--) colptr[p] = colptr[p - 1];
    colptr[0] = 0;
}

/* W[p][0..4·NV) += Σ over p's entries of value · D[example], the row of W in registers: one load
 * and one store of each row of W per batch (sparse_update_tile stores it once per example) */
INLINE void pixel_update_tile(const int NV, double *W, Py_ssize_t ldw, const double *D, Py_ssize_t ldd,
                              const ByPixel *bp) {
#if HAVE_VEC
    for (Py_ssize_t u = 0; u < bp->n_pix; u++) {
        const Py_ssize_t p = bp->pix[u];
        double *w = W + p * ldw;
        v4d acc[8];
        for (int v = 0; v < NV; v++) acc[v] = ld4(w + 4 * v);
        for (Py_ssize_t e = bp->colptr[p]; e < bp->colptr[p + 1]; e++) {
            const double *d = D + bp->ex[e] * ldd;
            const v4d s = bc4(bp->value[e]);
            for (int v = 0; v < NV; v++) acc[v] += s * ld4(d + 4 * v);
        }
        for (int v = 0; v < NV; v++) st4(w + 4 * v, acc[v]);
    }
#else
    (void)NV, (void)W, (void)ldw, (void)D, (void)ldd, (void)bp;
#endif
}

INLINE void pixel_update_cols(Py_ssize_t w, double *W, Py_ssize_t ldw, const double *D, Py_ssize_t ldd,
                              const ByPixel *bp) {
    for (Py_ssize_t u = 0; u < bp->n_pix; u++) {
        const Py_ssize_t p = bp->pix[u];
        for (Py_ssize_t e = bp->colptr[p]; e < bp->colptr[p + 1]; e++)
            for (Py_ssize_t j = 0; j < w; j++) W[p * ldw + j] += bp->value[e] * D[bp->ex[e] * ldd + j];
    }
}

/* W += Xᵀ D pixel by pixel (bp from group_by_pixel), tiled like sparse_tiles */
INLINE void pixel_update(Py_ssize_t n1, double *W, const double *D, const ByPixel *bp) {
    for (Py_ssize_t j = 0; j < n1;) {
        int nv, t2;
        Py_ssize_t w = tile_plan(n1 - j, 8, &nv, &t2);
        if (t2) w -= 2; /* (no 2-wide tails here: the rows are wide, the tail one pass among many) */
        if (!nv) w = n1 - j;
        switch (nv) {
        case 8: pixel_update_tile(8, W + j, n1, D + j, n1, bp); break;
        case 4: pixel_update_tile(4, W + j, n1, D + j, n1, bp); break;
        case 2: pixel_update_tile(2, W + j, n1, D + j, n1, bp); break;
        case 1: pixel_update_tile(1, W + j, n1, D + j, n1, bp); break;
        default: pixel_update_cols(w, W + j, n1, D + j, n1, bp);
        }
        j += w;
    }
}

/* the two kinds of input, each with its own inner loops */
INLINE void sparse_forward(int x_u8, Py_ssize_t m, Py_ssize_t n1, double *Z, const double *W, const double *bias,
                           const Sparse *sp) {
    if (x_u8) sparse_tiles(0, 1, m, n1, (double *)W, bias, Z, sp);
    else sparse_tiles(0, 0, m, n1, (double *)W, bias, Z, sp);
}

/* W += Xᵀ D: example by example, or pixel by pixel when the rows are wide and the batch has several
 * examples: grouping the entries by pixel costs a few thousand cycles a batch, which wide rows repay
 * (each row of W loaded and stored once per batch, not once per example that has the pixel).  Time
 * pixel by pixel / example by example, measured: 784-16-16-10 1.76 (batch 10) 1.34 (1000);
 * 784-30-10 1.65 (10) 1.33 (1000); 784-100-10 0.91 (32) 0.82 (100) 1.04 (1000); 784-300-100-10 0.87
 * (10) 0.83 (1000); 784-1000-10 0.89 (10) 0.96 (1000). */
#ifndef BY_PIXEL_MIN_WIDTH
#define BY_PIXEL_MIN_WIDTH 64
#endif
#define BY_PIXEL_MIN_BATCH 16
INLINE int by_pixel(Py_ssize_t n1, Py_ssize_t m) {
    return n1 >= BY_PIXEL_MIN_WIDTH && (m >= BY_PIXEL_MIN_BATCH || (n1 >= 256 && m >= 8));
}

INLINE void sparse_update(int x_u8, Py_ssize_t m, Py_ssize_t n0, Py_ssize_t n1, double *W, const double *D,
                          const Sparse *sp, ByPixel *bp) {
    if (bp) { /* (by_pixel(n1, m), and its buffers could be had) */
        if (x_u8) group_by_pixel(1, m, n0, sp, bp);
        else group_by_pixel(0, m, n0, sp, bp);
        pixel_update(n1, W, D, bp);
    } else if (x_u8) sparse_tiles(1, 1, m, n1, W, NULL, (double *)D, sp);
    else sparse_tiles(1, 0, m, n1, W, NULL, (double *)D, sp);
}

/* ---- the other layers: dense products */

/* One block of C = init + A B, or C = beta C + A B when accumulating: MR rows × (4·NV + 2·T2)
 * columns, the sums in registers.  A's element (r, k) is A[r·ai + k·ak] (so Aᵀ is the same A with ai
 * and ak swapped), B's (k, j) is B[k·ldb + j]. */
INLINE void gemm_block(const int MR, const int NV, const int T2, Py_ssize_t K, const double *A, Py_ssize_t ai,
                       Py_ssize_t ak, const double *B, Py_ssize_t ldb, double *C, Py_ssize_t ldc, const double *init,
                       int accumulate, double beta) {
#if HAVE_VEC
    const int tail = 4 * NV;
    v4d acc[4][2];
    v2d t[4];
    for (int r = 0; r < MR; r++) {
        for (int v = 0; v < NV; v++) acc[r][v] = init ? ld4(init + 4 * v) : bc4(0.0);
        t[r] = T2 && init ? ld2(init + tail) : bc2(0.0);
    }
    for (Py_ssize_t k = 0; k < K; k++) {
        const double *b = B + k * ldb;
        const v4d b0 = NV > 0 ? ld4(b) : bc4(0.0), b1 = NV > 1 ? ld4(b + 4) : bc4(0.0);
        const v2d bt = T2 ? ld2(b + tail) : bc2(0.0);
        for (int r = 0; r < MR; r++) {
            const double a = A[r * ai + k * ak];
            if (NV > 0) acc[r][0] += bc4(a) * b0;
            if (NV > 1) acc[r][1] += bc4(a) * b1;
            if (T2) t[r] += bc2(a) * bt;
        }
    }
    for (int r = 0; r < MR; r++) {
        for (int v = 0; v < NV; v++) {
            double *c = C + r * ldc + 4 * v;
            st4(c, accumulate ? beta * ld4(c) + acc[r][v] : acc[r][v]);
        }
        if (T2) {
            double *c = C + r * ldc + tail;
            st2(c, accumulate ? beta * ld2(c) + t[r] : t[r]);
        }
    }
#else
    (void)MR, (void)NV, (void)T2, (void)K, (void)A, (void)ai, (void)ak, (void)B, (void)ldb, (void)C, (void)ldc,
        (void)init, (void)accumulate, (void)beta;
#endif
}

INLINE void gemm_cols(Py_ssize_t M, Py_ssize_t w, Py_ssize_t K, const double *A, Py_ssize_t ai, Py_ssize_t ak,
                      const double *B, Py_ssize_t ldb, double *C, Py_ssize_t ldc, const double *init, int accumulate, double beta) {
    for (Py_ssize_t r = 0; r < M; r++)
        for (Py_ssize_t j = 0; j < w; j++) {
            double s = init ? init[j] : 0.0;
            for (Py_ssize_t k = 0; k < K; k++) s += A[r * ai + k * ak] * B[k * ldb + j];
            C[r * ldc + j] = accumulate ? beta * C[r * ldc + j] + s : s;
        }
}

/* C (M × N) = init + A B, or beta C + A B when accumulating (see gemm_block) */
INLINE void gemm(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const double *A, Py_ssize_t ai, Py_ssize_t ak,
                 const double *B, Py_ssize_t ldb, double *C, Py_ssize_t ldc, const double *init, int accumulate,
                 double beta) {
    for (Py_ssize_t j = 0; j < N;) {
        int nv, t2;
        const Py_ssize_t w = tile_plan(N - j, 2, &nv, &t2);
        const double *in = init ? init + j : NULL;
        if (!nv && !t2) {
            gemm_cols(M, w, K, A, ai, ak, B + j, ldb, C + j, ldc, in, accumulate, beta);
            j += w;
            continue;
        }
        for (Py_ssize_t r = 0; r < M;) {
            const int mr = M - r >= 4 ? 4 : 1;
            const double *a = A + r * ai;
            double *c = C + r * ldc + j;
#define GEMM_BLOCK(MR, NV, T2) gemm_block(MR, NV, T2, K, a, ai, ak, B + j, ldb, c, ldc, in, accumulate, beta)
            switch (mr * 8 + nv * 2 + t2) {
            case 36: GEMM_BLOCK(4, 2, 0); break;
            case 37: GEMM_BLOCK(4, 2, 1); break;
            case 34: GEMM_BLOCK(4, 1, 0); break;
            case 35: GEMM_BLOCK(4, 1, 1); break;
            case 33: GEMM_BLOCK(4, 0, 1); break;
            case 12: GEMM_BLOCK(1, 2, 0); break;
            case 13: GEMM_BLOCK(1, 2, 1); break;
            case 10: GEMM_BLOCK(1, 1, 0); break;
            case 11: GEMM_BLOCK(1, 1, 1); break;
            default: GEMM_BLOCK(1, 0, 1);
            }
#undef GEMM_BLOCK
            r += mr;
        }
        j += w;
    }
}

/* The forward pass of m examples: rows perm[0..m) of X (N rows of n0 uint8 or float64 values), or
 * rows 0..m when perm is NULL.  Their non-zero inputs go to sp (kept for the first layer's update),
 * the activations of layer l to acts[l] (m × n_l). */
INLINE void forward_pass(const Kernel *k, const char *X, int x_u8, const Py_ssize_t *perm, Py_ssize_t ahead_ok,
                         Py_ssize_t m, double *const *acts, const Sparse *sp, const int avx2) {
    const int L = k->L;
    const Py_ssize_t *sz = k->sizes;
    const double *P = (const double *)k->params.buf;
    const Py_ssize_t n0 = sz[0];
    /* images read in shuffled order: ask for the pixels of the one after next ahead of time (the
     * last examples of a batch fetch the next batch's first: ahead_ok says how many rows of perm
     * may be read) */
    const size_t row_bytes = (size_t)n0 * (x_u8 ? 1 : sizeof(double));
    Py_ssize_t *rowptr = sp->rowptr;
    rowptr[0] = 0;
    for (Py_ssize_t i = 0; i < m; i++) {
        const Py_ssize_t r = perm ? perm[i] : i;
        if (perm && i + 2 < ahead_ok) {
            const char *next = X + (size_t)perm[i + 2] * row_bytes;
            for (size_t b = 0; b < row_bytes; b += 64) PREFETCH(next + b);
        }
        const Py_ssize_t r0 = rowptr[i];
        const char *row = X + (size_t)r * row_bytes;
        Py_ssize_t c;
        if (!x_u8) c = nonzero_f64((const double *)row, n0, sp->idx + r0, sp->val + r0);
#if HAVE_AVX2_CLONE
        else if (avx2) c = nonzero_u8_avx2((const uint8_t *)row, n0, sp->idx + r0, sp->px + r0);
#endif
        else c = nonzero_u8((const uint8_t *)row, n0, sp->idx + r0, sp->px + r0);
        rowptr[i + 1] = r0 + c;
    }
    sparse_forward(x_u8, m, sz[1], acts[1], P + k->offset[0], P + k->offset[0] + n0 * sz[1], sp);
    activate(acts[1], m * sz[1], k->act[0]);
    for (int l = 1; l < L; l++) {
        const Py_ssize_t ni = sz[l], no = sz[l + 1];
        const double *Wl = P + k->offset[l];
        gemm(m, no, ni, acts[l], ni, 1, Wl, no, acts[l + 1], no, Wl + ni * no, 0, 0.0);
        activate(acts[l + 1], m * no, k->act[l]);
    }
}

/* outputs (rows × n_out) of the network for rows of X, EVAL_ROWS at a time, in work buffers of that size */
#define EVAL_ROWS 256
INLINE void eval_body(const Kernel *k, const char *X, int x_u8, Py_ssize_t rows, double *out, double *work,
                      const Sparse *sp, const int avx2) {
    const int L = k->L;
    const size_t row_bytes = (size_t)k->sizes[0] * (x_u8 ? 1 : sizeof(double));
    for (Py_ssize_t i = 0; i < rows; i += EVAL_ROWS) {
        const Py_ssize_t m = rows - i < EVAL_ROWS ? rows - i : EVAL_ROWS;
        double *acts[MAX_LAYERS + 1], *w = work;
        for (int l = 1; l < L; l++) { acts[l] = w; w += m * k->sizes[l]; }
        acts[L] = out + i * k->sizes[L];
        forward_pass(k, X + (size_t)i * row_bytes, x_u8, NULL, 0, m, acts, sp, avx2);
    }
}

INLINE double kernel_body(Kernel *k, Py_ssize_t pos, Py_ssize_t m, double eta, double shrink, const int avx2) {
    const int L = k->L;
    const Py_ssize_t *sz = k->sizes;
    double *P = (double *)k->params.buf;
    const Py_ssize_t n_out = sz[L];
    const Py_ssize_t *perm = (const Py_ssize_t *)k->perm.buf + pos;
    const double *Y = (const double *)k->targets.buf + pos * n_out;
    /* work: acts[l] (m × n_l) for l = 1..L, then deltas[l] (m × n_l) for l = 1..L */
    double *acts[MAX_LAYERS + 1], *deltas[MAX_LAYERS + 1];
    double *w = k->b.work;
    for (int l = 1; l <= L; l++) { acts[l] = w; w += m * sz[l]; }
    for (int l = 1; l <= L; l++) { deltas[l] = w; w += m * sz[l]; }
    const Sparse sp = {k->b.rowptr, k->b.nzi, k->b.nzp, k->b.nzv, k->u8_scale};
    forward_pass(k, (const char *)k->x.buf, k->x_u8, perm, k->N - pos, m, acts, &sp, avx2);

    /* output error and cost; deltas are pre-scaled by −η/m so they are the steps themselves */
    const double step = -eta / (double)m;
    double cost = 0.0;
    for (Py_ssize_t i = 0; i < m * n_out; i++) {
        const double a = acts[L][i], y = Y[i], d = a - y;
        if (k->cost == COST_QUADRATIC) {
            cost += d * d;
            deltas[L][i] = step * 2.0 * d * a * (1.0 - a);
        } else {
            double c = a < 1e-12 ? 1e-12 : (a > 1.0 - 1e-12 ? 1.0 - 1e-12 : a);
            if (a != a) c = a;
            cost -= y * log(c) + (1.0 - y) * log1p(-c);
            deltas[L][i] = step * d;
        }
    }

    /* backward, layer by layer from the output */
    for (int l = L - 1; l >= 0; l--) {
        const Py_ssize_t ni = sz[l], no = sz[l + 1];
        double *Wl = P + k->offset[l];
        double *bias = Wl + ni * no;
        const double *D = deltas[l + 1];
        if (l > 0) { /* the previous layer's error, with this layer's weights before the step */
            double *WT = k->b.wt; /* Wᵀ (no × ni), so that the product reads rows */
            for (Py_ssize_t p = 0; p < ni; p++)
                for (Py_ssize_t j = 0; j < no; j++) WT[j * ni + p] = Wl[p * no + j];
            gemm(m, ni, no, D, no, 1, WT, ni, deltas[l], ni, NULL, 0, 0.0);
            times_fprime(deltas[l], acts[l], m * ni, k->act[l - 1]);
        }
        for (Py_ssize_t i = 0; i < m; i++) {
            const double *d = D + i * no;
            for (Py_ssize_t j = 0; j < no; j++) bias[j] += d[j];
        }
        if (l > 0) { /* W ← shrink·W + Aᵀ D: L2 shrinks the weights (not the biases) first */
            gemm(ni, no, m, acts[l], 1, ni, D, no, Wl, no, NULL, 1, shrink);
        } else {
            if (shrink != 1.0)
                for (Py_ssize_t q = 0; q < ni * no; q++) Wl[q] *= shrink;
            ByPixel bp = {NULL, NULL, NULL, NULL, 0};
            const int grouped = by_pixel(no, m) && reserve_by_pixel(&k->b, k->b.rowptr[m], ni);
            if (grouped) bp = (ByPixel){k->b.colptr, k->b.ex, k->b.pix, k->b.exv, 0};
            sparse_update(k->x_u8, m, ni, no, Wl, D, &sp, grouped ? &bp : NULL);
        }
    }
    return cost / (double)m;
}

#if HAVE_AVX2_CLONE
__attribute__((target("avx2,fma,popcnt,bmi,bmi2")))
static double kernel_step_avx2(Kernel *k, Py_ssize_t pos, Py_ssize_t m, double eta, double shrink) {
    return kernel_body(k, pos, m, eta, shrink, 1);
}
#endif

static double kernel_step_base(Kernel *k, Py_ssize_t pos, Py_ssize_t m, double eta, double shrink) {
    return kernel_body(k, pos, m, eta, shrink, 0);
}

static double (*kernel_step)(Kernel *, Py_ssize_t, Py_ssize_t, double, double) = kernel_step_base;

#if HAVE_AVX2_CLONE
__attribute__((target("avx2,fma,popcnt,bmi,bmi2")))
static void kernel_eval_avx2(const Kernel *k, const char *X, int x_u8, Py_ssize_t rows, double *out, double *work,
                             const Sparse *sp) {
    eval_body(k, X, x_u8, rows, out, work, sp, 1);
}
#endif

static void kernel_eval_base(const Kernel *k, const char *X, int x_u8, Py_ssize_t rows, double *out, double *work,
                             const Sparse *sp) {
    eval_body(k, X, x_u8, rows, out, work, sp, 0);
}

static void (*kernel_eval)(const Kernel *, const char *, int, Py_ssize_t, double *, double *, const Sparse *) =
    kernel_eval_base;

/* forward(x, out): out (N × n_out, float64) = the network's outputs for the rows of x (N × n_in,
 * uint8 pixels or float64 activations), the same maths as the steps' forward pass */
static PyObject *Kernel_forward(Kernel *k, PyObject *args) {
    PyObject *xo, *outo;
    if (!PyArg_ParseTuple(args, "OO", &xo, &outo)) return NULL;
    if (!k->have_params) {
        PyErr_SetString(PyExc_RuntimeError, "kernel is not initialised");
        return NULL;
    }
    if (k->busy) {
        PyErr_SetString(PyExc_RuntimeError, "kernel is busy");
        return NULL;
    }
    Py_buffer x, out;
    if (PyObject_GetBuffer(xo, &x, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS | PyBUF_ND) < 0) return NULL;
    if (PyObject_GetBuffer(outo, &out, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS | PyBUF_ND) < 0) {
        PyBuffer_Release(&x);
        return NULL;
    }
    const Py_ssize_t n0 = k->sizes[0], n_out = k->sizes[k->L];
    const int x_u8 = strcmp(x.format, "B") == 0;
    if (x.ndim != 2 || x.shape[1] != n0 || !(x_u8 || strcmp(x.format, "d") == 0) || out.ndim != 2
        || out.shape[0] != x.shape[0] || out.shape[1] != n_out || strcmp(out.format, "d") != 0) {
        PyBuffer_Release(&x);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "forward(x, out): x (N, n_in) uint8 or float64, out (N, n_out) float64");
        return NULL;
    }
    Py_ssize_t per = 0;
    for (int l = 1; l < k->L; l++) per += k->sizes[l];
    const size_t nnz = (size_t)EVAL_ROWS * n0 + 64;
    Buffers b = {0};
    b.work = (double *)malloc((size_t)(EVAL_ROWS * per + 1) * sizeof(double));
    b.rowptr = (Py_ssize_t *)malloc((EVAL_ROWS + 1) * sizeof(Py_ssize_t));
    b.nzi = (int32_t *)malloc(nnz * sizeof(int32_t));
    b.nzv = (double *)malloc(nnz * sizeof(double));
    b.nzp = (uint8_t *)malloc(nnz);
    const int ok = b.work && b.rowptr && b.nzi && b.nzv && b.nzp;
    if (ok) {
        k->busy = 1;
        Py_BEGIN_ALLOW_THREADS
        const Sparse sp = {b.rowptr, b.nzi, b.nzp, b.nzv, k->u8_scale};
        kernel_eval(k, (const char *)x.buf, x_u8, x.shape[0], (double *)out.buf, b.work, &sp);
        Py_END_ALLOW_THREADS
        k->busy = 0;
    }
    free_buffers(&b);
    PyBuffer_Release(&x);
    PyBuffer_Release(&out);
    if (!ok) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* step(pos, m, eta, shrink) -> mean cost of the mini-batch perm[pos:pos+m] (before the step) */
static PyObject *Kernel_step(Kernel *k, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "step(pos, m, eta, shrink)");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[0]);
    Py_ssize_t m = PyLong_AsSsize_t(args[1]);
    double eta = PyFloat_AsDouble(args[2]);
    double shrink = PyFloat_AsDouble(args[3]);
    if (PyErr_Occurred()) return NULL;
    if (!k->have_epoch || !k->have_params) {
        PyErr_SetString(PyExc_RuntimeError, "call set_epoch() first");
        return NULL;
    }
    if (m < 1 || pos < 0 || pos + m > k->N) {
        PyErr_SetString(PyExc_ValueError, "mini-batch out of range");
        return NULL;
    }
    if (k->busy) {
        PyErr_SetString(PyExc_RuntimeError, "kernel is busy");
        return NULL;
    }
    if (m > k->work_m) {
        Py_ssize_t per = 0, wt = 1;
        for (int l = 1; l <= k->L; l++) per += 2 * k->sizes[l];
        for (int l = 1; l < k->L; l++)
            if (k->sizes[l] * k->sizes[l + 1] > wt) wt = k->sizes[l] * k->sizes[l + 1];
        const size_t nnz = (size_t)m * (size_t)k->sizes[0] + 64; /* + the slack nonzero_u8 writes into */
        Buffers b = {0};
        b.work = (double *)malloc((size_t)(m * per) * sizeof(double));
        b.wt = (double *)malloc((size_t)wt * sizeof(double));
        b.rowptr = (Py_ssize_t *)malloc((size_t)(m + 1) * sizeof(Py_ssize_t));
        b.nzi = (int32_t *)malloc(nnz * sizeof(int32_t));
        b.nzv = k->x_u8 ? NULL : (double *)malloc(nnz * sizeof(double));
        b.nzp = k->x_u8 ? (uint8_t *)malloc(nnz) : NULL;
        if (!b.work || !b.wt || !b.rowptr || !b.nzi || !(b.nzv || b.nzp)) {
            free_buffers(&b);
            return PyErr_NoMemory();
        }
        free_buffers(&k->b);
        k->b = b;
        k->work_m = m;
    }
    double cost;
    k->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    cost = kernel_step(k, pos, m, eta, shrink);
    Py_END_ALLOW_THREADS
    k->busy = 0;
    return PyFloat_FromDouble(cost);
}

static PyMethodDef Kernel_methods[] = {
    {"set_epoch", (PyCFunction)Kernel_set_epoch, METH_VARARGS, "set_epoch(perm, targets)"},
    {"step", (PyCFunction)(void (*)(void))Kernel_step, METH_FASTCALL, "step(pos, m, eta, shrink) -> mean cost"},
    {"forward", (PyCFunction)Kernel_forward, METH_VARARGS, "forward(x, out): the outputs for the rows of x"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject KernelType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_nnstudio_sgd.Kernel",
    .tp_basicsize = sizeof(Kernel),
    .tp_dealloc = (destructor)Kernel_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Kernel(params, sizes, activations, cost, x): in-place SGD steps on a flat parameter buffer",
    .tp_methods = Kernel_methods,
    .tp_init = (initproc)Kernel_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_nnstudio_sgd", "One mini-batch of SGD in C (optional accelerator).", -1, NULL,
};

PyMODINIT_FUNC PyInit__nnstudio_sgd(void) {
    const char *isa = "baseline";
#if HAVE_AVX2_CLONE
    init_lp_table();
    __builtin_cpu_init();
    const char *want = getenv("NNSTUDIO_KERNEL");
    if (!(want && strcmp(want, "baseline") == 0) && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
        && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2")) {
        kernel_step = kernel_step_avx2;
        kernel_eval = kernel_eval_avx2;
        isa = "avx2+fma";
    }
#endif
    if (PyType_Ready(&KernelType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&KernelType);
    if (PyModule_AddObject(m, "Kernel", (PyObject *)&KernelType) < 0) {
        Py_DECREF(&KernelType);
        Py_DECREF(m);
        return NULL;
    }
    PyModule_AddStringConstant(m, "ISA", isa);
    PyModule_AddIntConstant(m, "SIGMOID", ACT_SIGMOID);
    PyModule_AddIntConstant(m, "TANH", ACT_TANH);
    PyModule_AddIntConstant(m, "RELU", ACT_RELU);
    PyModule_AddIntConstant(m, "QUADRATIC", COST_QUADRATIC);
    PyModule_AddIntConstant(m, "CROSS_ENTROPY", COST_CROSS_ENTROPY);
    return m;
}
