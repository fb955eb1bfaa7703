/* _nnstudio_sgd (source nnstudio/core/_sgd.c): one mini-batch of stochastic gradient descent, in C.
 *
 * An optional accelerator for nnstudio.core.trainer.  The trainer's NumPy loop is the
 * reference (and the fallback when this module is not built); this kernel does exactly the
 * same maths on the same parameter buffer, in one call per mini-batch:
 *
 *   forward   z = W a + b,  a = f(z)          (sigmoid, tanh or ReLU; output sigmoid)
 *   output    δ = 2(a − y)·σ'(z)  (quadratic, C = Σ(a − y)²)   or   δ = a − y  (cross-entropy)
 *   backward  δ_prev = (Wᵀ δ)·f'(z_prev), using the weights from before the step
 *   update    W ← shrink·W − (η/m) Σ_examples a δᵀ,   b ← b − (η/m) Σ δ
 *
 * Why it is fast: the first layer skips the zero pixels of each image (about four fifths of
 * an MNIST digit is background), reads the uint8 pixels directly (no conversion to float),
 * and the whole step is one call, so none of NumPy's per-call overhead on tiny arrays.  It
 * releases the GIL while it works, so the GUI thread can paint while the worker trains.
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

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
/* one build, two versions of the step: AVX2+FMA where the CPU has them (chosen at import
 * time), the compiler's baseline otherwise */
#define HAVE_AVX2_CLONE 1
#define INLINE static inline __attribute__((always_inline))
#else
#define HAVE_AVX2_CLONE 0
#define INLINE static inline
#endif
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define PREFETCH(p) ((void)0)
#endif

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
    double *work;
    Py_ssize_t work_m;
    uint16_t *nz;  /* per example of the mini-batch: the indices of its non-zero inputs */
    Py_ssize_t *nnz;
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
    free(k->work);
    free(k->nz);
    free(k->nnz);
    k->work = NULL;
    k->nz = NULL;
    k->nnz = NULL;
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
    if (k->sizes[0] > 65535) {
        PyErr_SetString(PyExc_ValueError, "at most 65,535 inputs");
        return -1;
    }
    k->N = k->x.shape[0];
    for (int v = 0; v < 256; v++) k->u8_scale[v] = v / 255.0;
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

/* ---------------------------------------------------------------- the maths */

/* z (n_out) += s * w (n_out) */
INLINE void axpy(double *restrict z, const double *restrict w, double s, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; j++) z[j] += s * w[j];
}

INLINE double dot(const double *restrict a, const double *restrict b, Py_ssize_t n) {
    double s = 0.0;
    for (Py_ssize_t j = 0; j < n; j++) s += a[j] * b[j];
    return s;
}

INLINE void activate(double *a, Py_ssize_t n, int act) {
    switch (act) {
    case ACT_SIGMOID:
        for (Py_ssize_t j = 0; j < n; j++) a[j] = 1.0 / (1.0 + exp(-a[j]));
        break;
    case ACT_TANH:
        for (Py_ssize_t j = 0; j < n; j++) a[j] = tanh(a[j]);
        break;
    default: /* ReLU; NaN stays NaN so a blow-up is seen */
        for (Py_ssize_t j = 0; j < n; j++) a[j] = (a[j] > 0.0 || a[j] != a[j]) ? a[j] : 0.0;
    }
}

/* f'(z) from a = f(z) */
INLINE double fprime(double a, int act) {
    switch (act) {
    case ACT_SIGMOID: return a * (1.0 - a);
    case ACT_TANH: return 1.0 - a * a;
    default: return a > 0.0 ? 1.0 : 0.0;
    }
}

INLINE double kernel_body(Kernel *k, Py_ssize_t pos, Py_ssize_t m, double eta, double shrink) {
    const int L = k->L;
    const Py_ssize_t *sz = k->sizes;
    double *P = (double *)k->params.buf;
    const Py_ssize_t n0 = sz[0], n_out = sz[L];
    const Py_ssize_t *perm = (const Py_ssize_t *)k->perm.buf + pos;
    const double *Y = (const double *)k->targets.buf + pos * n_out;
    const uint8_t *XU = (const uint8_t *)k->x.buf;
    const double *XD = (const double *)k->x.buf;
    const double *scale = k->u8_scale;
    /* work: acts[l] (m × n_l) for l = 1..L, then deltas[l] (m × n_l) for l = 1..L */
    double *acts[MAX_LAYERS + 1], *deltas[MAX_LAYERS + 1];
    double *w = k->work;
    for (int l = 1; l <= L; l++) { acts[l] = w; w += m * sz[l]; }
    for (int l = 1; l <= L; l++) { deltas[l] = w; w += m * sz[l]; }

    /* forward */
    const size_t row_bytes = (size_t)n0 * (k->x_u8 ? 1 : sizeof(double));
    for (Py_ssize_t i = 0; i < m; i++) {
        const Py_ssize_t n1 = sz[1];
        /* the images are read in shuffled order: ask for the next ones' pixels ahead of
         * time (the last examples of this batch fetch the first ones of the next batch) */
        for (Py_ssize_t ahead = i + 1; ahead <= i + 2 && pos + ahead < k->N; ahead++) {
            const char *r = (const char *)k->x.buf + (size_t)perm[ahead] * row_bytes;
            for (size_t b = 0; b < row_bytes; b += 64) PREFETCH(r + b);
        }
        const double *W = P + k->offset[0];
        double *z = acts[1] + i * n1;
        memcpy(z, W + n0 * n1, n1 * sizeof(double));
        /* the non-zero inputs of this example, found once (branch-free) for both passes */
        uint16_t *nz = k->nz + i * n0;
        Py_ssize_t c = 0;
        if (k->x_u8) {
            const uint8_t *row = XU + perm[i] * n0;
            Py_ssize_t p = 0;
            for (; p + 8 <= n0; p += 8) { /* background comes in runs: skip 8 zero pixels at once */
                uint64_t word;
                memcpy(&word, row + p, 8);
                if (!word) continue;
                for (int b = 0; b < 8; b++) { nz[c] = (uint16_t)(p + b); c += row[p + b] != 0; }
            }
            for (; p < n0; p++) { nz[c] = (uint16_t)p; c += row[p] != 0; }
            for (Py_ssize_t q = 0; q < c; q++) axpy(z, W + nz[q] * n1, scale[row[nz[q]]], n1);
        } else {
            const double *row = XD + perm[i] * n0;
            for (Py_ssize_t p = 0; p < n0; p++) { nz[c] = (uint16_t)p; c += row[p] != 0.0; }
            for (Py_ssize_t q = 0; q < c; q++) axpy(z, W + nz[q] * n1, row[nz[q]], n1);
        }
        k->nnz[i] = c;
        activate(z, n1, k->act[0]);
        for (int l = 1; l < L; l++) {
            const Py_ssize_t ni = sz[l], no = sz[l + 1];
            const double *Wl = P + k->offset[l];
            const double *a = acts[l] + i * ni;
            double *zl = acts[l + 1] + i * no;
            memcpy(zl, Wl + ni * no, no * sizeof(double));
            for (Py_ssize_t p = 0; p < ni; p++)
                if (a[p] != 0.0) axpy(zl, Wl + p * no, a[p], no);
            activate(zl, no, k->act[l]);
        }
    }

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
        const double *D = deltas[l + 1];
        if (l > 0) { /* the previous layer's error, with this layer's weights before the step */
            const double *A = acts[l];
            double *Dp = deltas[l];
            for (Py_ssize_t i = 0; i < m; i++)
                for (Py_ssize_t p = 0; p < ni; p++)
                    Dp[i * ni + p] = dot(Wl + p * no, D + i * no, no) * fprime(A[i * ni + p], k->act[l - 1]);
        }
        if (shrink != 1.0) /* L2: weights (not biases) shrink first */
            for (Py_ssize_t q = 0; q < ni * no; q++) Wl[q] *= shrink;
        double *bias = Wl + ni * no;
        for (Py_ssize_t i = 0; i < m; i++) {
            const double *d = D + i * no;
            axpy(bias, d, 1.0, no);
            if (l == 0) {
                const uint16_t *nz = k->nz + i * n0;
                const Py_ssize_t c = k->nnz[i];
                if (k->x_u8) {
                    const uint8_t *row = XU + perm[i] * n0;
                    for (Py_ssize_t q = 0; q < c; q++) axpy(Wl + nz[q] * no, d, scale[row[nz[q]]], no);
                } else {
                    const double *row = XD + perm[i] * n0;
                    for (Py_ssize_t q = 0; q < c; q++) axpy(Wl + nz[q] * no, d, row[nz[q]], no);
                }
            } else {
                const double *a = acts[l] + i * ni;
                for (Py_ssize_t p = 0; p < ni; p++)
                    if (a[p] != 0.0) axpy(Wl + p * no, d, a[p], no);
            }
        }
    }
    return cost / (double)m;
}

#if HAVE_AVX2_CLONE
__attribute__((target("avx2,fma")))
static double kernel_step_avx2(Kernel *k, Py_ssize_t pos, Py_ssize_t m, double eta, double shrink) {
    return kernel_body(k, pos, m, eta, shrink);
}
#endif

static double kernel_step_base(Kernel *k, Py_ssize_t pos, Py_ssize_t m, double eta, double shrink) {
    return kernel_body(k, pos, m, eta, shrink);
}

static double (*kernel_step)(Kernel *, Py_ssize_t, Py_ssize_t, double, double) = kernel_step_base;

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
        Py_ssize_t per = 0;
        for (int l = 1; l <= k->L; l++) per += 2 * k->sizes[l];
        double *w = (double *)malloc((size_t)(m * per) * sizeof(double));
        uint16_t *nz = (uint16_t *)malloc((size_t)(m * k->sizes[0]) * sizeof(uint16_t));
        Py_ssize_t *nnz = (Py_ssize_t *)malloc((size_t)m * sizeof(Py_ssize_t));
        if (!w || !nz || !nnz) {
            free(w);
            free(nz);
            free(nnz);
            return PyErr_NoMemory();
        }
        free(k->work);
        free(k->nz);
        free(k->nnz);
        k->work = w;
        k->nz = nz;
        k->nnz = nnz;
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
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        kernel_step = kernel_step_avx2;
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
