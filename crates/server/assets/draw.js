// Drawings on the picture under review (`core::tracking::drawing`): shapes kept as vectors in
// coordinates relative to the picture (x and y from 0 to 1 from its top left; line widths and
// text sizes as fractions of its height), drawn into an SVG laid exactly over the picture, so a
// drawing stays put at every window size, in full screen and whatever the picture's aspect.

const NS = "http://www.w3.org/2000/svg";

// Where the picture is inside its video element (which letterboxes it), in the element's
// parent's coordinates, and its own size in pixels.
export function pictureRect(video) {
  const cw = video.clientWidth;
  const ch = video.clientHeight;
  const vw = video.videoWidth || cw || 1;
  const vh = video.videoHeight || ch || 1;
  const s = Math.min(cw / vw, ch / vh);
  const width = vw * s;
  const height = vh * s;
  return {
    left: video.offsetLeft + (cw - width) / 2,
    top: video.offsetTop + (ch - height) / 2,
    width,
    height,
    vw,
    vh,
  };
}

// Lays `svg` over the picture of `video`, its units the picture's pixels.
export function place(svg, video) {
  const r = pictureRect(video);
  svg.style.left = `${r.left}px`;
  svg.style.top = `${r.top}px`;
  svg.style.width = `${r.width}px`;
  svg.style.height = `${r.height}px`;
  svg.setAttribute("viewBox", `0 0 ${r.vw} ${r.vh}`);
  return r;
}

function make(name, attrs) {
  const el = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// The SVG of one shape, in a picture `vw` by `vh` pixels.
function element(shape, vw, vh) {
  const x = (p) => p[0] * vw;
  const y = (p) => p[1] * vh;
  const line = {
    fill: "none",
    stroke: shape.color,
    "stroke-width": (shape.width || 0) * vh,
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
    "data-kind": shape.kind,
  };
  switch (shape.kind) {
    case "pen":
      if (shape.points.length === 1) {
        const [p] = shape.points;
        return make("circle", { cx: x(p), cy: y(p), r: (shape.width * vh) / 2, fill: shape.color, "data-kind": "pen" });
      }
      return make("polyline", { ...line, points: shape.points.map((p) => `${x(p)},${y(p)}`).join(" ") });
    case "arrow": {
      const g = make("g", line);
      const [x0, y0, x1, y1] = [x(shape.from), y(shape.from), x(shape.to), y(shape.to)];
      g.append(make("line", { x1: x0, y1: y0, x2: x1, y2: y1 }));
      // The head: two strokes back from the tip, as long as the line allows.
      const back = Math.atan2(y0 - y1, x0 - x1);
      const len = Math.min(Math.hypot(x1 - x0, y1 - y0) / 2, Math.max(0.025 * vh, 4 * shape.width * vh));
      const wing = (a) => `${x1 + len * Math.cos(back + a)},${y1 + len * Math.sin(back + a)}`;
      g.append(make("polyline", { points: `${wing(0.5)} ${x1},${y1} ${wing(-0.5)}` }));
      return g;
    }
    case "rect":
      return make("rect", {
        ...line,
        x: Math.min(x(shape.from), x(shape.to)),
        y: Math.min(y(shape.from), y(shape.to)),
        width: Math.abs(x(shape.to) - x(shape.from)),
        height: Math.abs(y(shape.to) - y(shape.from)),
      });
    case "ellipse":
      return make("ellipse", {
        ...line,
        cx: (x(shape.from) + x(shape.to)) / 2,
        cy: (y(shape.from) + y(shape.to)) / 2,
        rx: Math.abs(x(shape.to) - x(shape.from)) / 2,
        ry: Math.abs(y(shape.to) - y(shape.from)) / 2,
      });
    case "text": {
      const size = shape.size * vh;
      const t = make("text", {
        x: x(shape.at),
        y: y(shape.at),
        fill: shape.color,
        "font-size": size,
        "dominant-baseline": "hanging",
        // A dark edge keeps light text legible on a light picture.
        stroke: "rgba(0,0,0,.65)",
        "stroke-width": size * 0.08,
        "paint-order": "stroke",
        "data-kind": "text",
      });
      shape.text.split("\n").forEach((row, i) => {
        const span = make("tspan", { x: x(shape.at), dy: i === 0 ? 0 : size * 1.2 });
        span.textContent = row;
        t.append(span);
      });
      return t;
    }
    default:
      return make("g", {});
  }
}

// Draws `shapes` into the group `layer` of an SVG placed by `place`.
export function render(layer, shapes) {
  const box = layer.ownerSVGElement.viewBox.baseVal;
  const vw = box?.width || 1;
  const vh = box?.height || 1;
  layer.replaceChildren(...shapes.map((s) => element(s, vw, vh)));
}

const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 100000) / 100000;

// A drawing being made on one frame: the tool and colour chosen, the shapes so far. `changed` is
// told after every shape added or taken back.
export class Sketch {
  constructor(svg, layer, changed) {
    this.svg = svg;
    this.layer = layer;
    this.changed = changed;
    this.shapes = [];
    this.tool = null;
    this.colour = "#ff3b30";
    this.width = 0.005;
    this.size = 0.045;
    this.frame = null; // the production frame drawn on
    this.live = null; // the shape under the pointer
    svg.addEventListener("pointerdown", (e) => this.down(e));
    svg.addEventListener("pointermove", (e) => this.move(e));
    svg.addEventListener("pointerup", (e) => this.up(e));
    svg.addEventListener("pointercancel", () => this.cancel());
  }

  // The point under the pointer, on the picture.
  at(e) {
    const r = this.svg.getBoundingClientRect();
    return [round((e.clientX - r.left) / r.width), round((e.clientY - r.top) / r.height)];
  }

  use(tool) {
    this.tool = this.tool === tool ? null : tool;
    this.svg.classList.toggle("drawing", this.tool !== null);
  }

  down(e) {
    if (!this.tool || e.button !== 0 || this.full()) return;
    e.preventDefault();
    const p = this.at(e);
    if (this.tool === "text") {
      this.write(p);
      return;
    }
    this.svg.setPointerCapture(e.pointerId);
    const common = { color: this.colour, width: this.width };
    this.live =
      this.tool === "pen" ? { kind: "pen", ...common, points: [p] } : { kind: this.tool, ...common, from: p, to: p };
    this.show();
  }

  move(e) {
    if (!this.live) return;
    const p = this.at(e);
    if (this.live.kind === "pen") {
      const q = this.live.points[this.live.points.length - 1];
      if (Math.hypot(p[0] - q[0], p[1] - q[1]) < 0.002 || this.live.points.length >= 4000) return;
      this.live.points.push(p);
    } else this.live.to = p;
    this.show();
  }

  up() {
    const s = this.live;
    this.live = null;
    if (!s) return;
    // A slip of the pointer (a box or a line of no size) draws nothing.
    const tiny =
      s.kind === "pen"
        ? false
        : s.kind === "arrow"
          ? Math.hypot(s.to[0] - s.from[0], s.to[1] - s.from[1]) < 0.005
          : Math.abs(s.to[0] - s.from[0]) < 0.003 || Math.abs(s.to[1] - s.from[1]) < 0.003;
    if (!tiny) this.add(s);
    else this.show();
  }

  cancel() {
    this.live = null;
    this.show();
  }

  // A text typed where the picture was clicked; Enter (or leaving the field) writes it, Escape
  // drops it.
  write(p) {
    const r = this.svg.getBoundingClientRect();
    const parent = this.svg.parentElement.getBoundingClientRect();
    const input = document.createElement("input");
    input.className = "draw-text";
    input.dataset.testid = "draw-text";
    input.style.left = `${r.left - parent.left + p[0] * r.width}px`;
    input.style.top = `${r.top - parent.top + p[1] * r.height}px`;
    input.style.color = this.colour;
    input.maxLength = 500;
    let done = false;
    const finish = (keep) => {
      if (done) return;
      done = true;
      const text = input.value.trim();
      input.remove();
      if (keep && text) this.add({ kind: "text", color: this.colour, size: this.size, at: p, text });
    };
    input.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter") finish(true);
      else if (e.key === "Escape") finish(false);
    });
    input.addEventListener("blur", () => finish(true));
    this.svg.parentElement.append(input);
    input.focus();
  }

  // What the platform keeps of a drawing (core::tracking::drawing): 200 shapes, 20,000 points.
  full() {
    const points = this.shapes.reduce((n, s) => n + (s.points ? s.points.length : 2), 0);
    return this.shapes.length >= 200 || points >= 20000 - 4000;
  }

  add(shape) {
    if (this.full()) {
      this.show();
      return;
    }
    this.shapes.push(shape);
    this.show();
    this.changed();
  }

  undo() {
    this.shapes.pop();
    this.show();
    this.changed();
  }

  clear() {
    this.shapes = [];
    this.show();
    this.changed();
  }

  show() {
    render(this.layer, this.live ? [...this.shapes, this.live] : this.shapes);
  }
}
