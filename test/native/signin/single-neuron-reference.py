# Independent float64 reference for the single-neuron experiment (examples/single-neuron.ts):
# closed-form gradients of L = ½·mean((a·ReLU(Xw) − y)²) in numpy, plain gradient descent and
# Sign-In (θ = m·w per entry, gradients g_m = w·g_θ and g_w = m·g_θ, reset
# m = sqrt((β + sqrt(β² + 4θ²))/2), w = θ/m). Nothing of the toolkit runs here.
# stdin: {"x": [[...]], "directions": {"random": [...], "teacher": [...]}, "options": {...}}
# stdout: [{"method", "start", "direction", "a", "w", "loss"}, ...]
import json
import sys

import numpy as np

inp = json.load(sys.stdin)
o = inp["options"]
x = np.array(inp["x"], dtype=np.float64)
n, d = x.shape
w_star = np.ones(d) / np.sqrt(d)
y = np.maximum(x @ w_star, 0.0)
beta, lr = o["beta"], o["lr"]


def split(theta):
    m = np.sqrt((beta + np.sqrt(beta * beta + 4 * theta * theta)) / 2)
    return m, theta / m


def train(method, sa, sw, u):
    a = np.array([sa * o["scale"]])
    w = sw * o["scale"] * np.array(u)
    if method == "signin":
        ma, wa = split(a)
        mw, ww = split(w)
    for step in range(o["steps"]):
        h = x @ w
        act = np.maximum(h, 0.0)
        r = a * act - y
        ga = np.array([np.mean(r * act)])
        gw = x.T @ (r * a * (h > 0)) / n
        if method == "plain":
            a, w = a - lr * ga, w - lr * gw
        else:
            ma, wa = ma - lr * wa * ga, wa - lr * ma * ga
            mw, ww = mw - lr * ww * gw, ww - lr * mw * gw
            a, w = ma * wa, mw * ww
            if o["resetEvery"] > 0 and (step + 1) % o["resetEvery"] == 0:
                ma, wa = split(a)
                mw, ww = split(w)
    loss = 0.5 * np.mean((a * np.maximum(x @ w, 0.0) - y) ** 2)
    return float(a[0]), w.tolist(), float(loss)


out = []
for direction, u in inp["directions"].items():
    for method in ("plain", "signin"):
        for start in ("(+,+)", "(-,+)", "(+,-)", "(-,-)"):
            sa = 1 if start[1] == "+" else -1
            sw = 1 if start[3] == "+" else -1
            a, w, loss = train(method, sa, sw, u)
            out.append({"method": method, "start": start, "direction": direction, "a": a, "w": w, "loss": loss})
print(json.dumps(out))
