// EfficientMTNet in the browser: onnxruntime-web (WebAssembly) runs the
// exported model on the user's machine; no image leaves the page.
//
// Pre-processing is the config's test pipeline (resize to the model's input
// with OpenCV's bilinear rule, mean/std in the model's channel order) and
// post-processing is mmseg's (the logits resized bilinearly to the image,
// argmax; softmax of the calibrated class logits), so the results equal
// tools/infer.py's. page_config.json, written by
// tools/deployment/build_browser_page.py, carries what comes from the config.
/* global ort */
'use strict';

const params = new URLSearchParams(window.location.search);

function setStatus(text) {
  document.getElementById('status').textContent = text;
}

// OpenCV's INTER_LINEAR (half-pixel centres, edge clamped) of an RGBA image
// to (h, w); 8-bit results rounded as OpenCV rounds them.
function resizeRGB(rgba, sw, sh, w, h) {
  const out = new Uint8ClampedArray(w * h * 3);
  const sx = sw / w, sy = sh / h;
  const xs0 = new Int32Array(w), xs1 = new Int32Array(w), fxs = new Float64Array(w);
  for (let x = 0; x < w; x++) {
    let fx = (x + 0.5) * sx - 0.5, ix = Math.floor(fx);
    fx -= ix;
    if (ix < 0) { ix = 0; fx = 0; }
    if (ix >= sw - 1) { ix = sw - 1; fx = 0; }
    xs0[x] = ix; xs1[x] = Math.min(ix + 1, sw - 1); fxs[x] = fx;
  }
  for (let y = 0; y < h; y++) {
    let fy = (y + 0.5) * sy - 0.5, iy = Math.floor(fy);
    fy -= iy;
    if (iy < 0) { iy = 0; fy = 0; }
    if (iy >= sh - 1) { iy = sh - 1; fy = 0; }
    const iy1 = Math.min(iy + 1, sh - 1);
    for (let x = 0; x < w; x++) {
      const fx = fxs[x];
      const a = (iy * sw + xs0[x]) * 4, b = (iy * sw + xs1[x]) * 4;
      const c = (iy1 * sw + xs0[x]) * 4, d = (iy1 * sw + xs1[x]) * 4;
      for (let k = 0; k < 3; k++) {
        const top = rgba[a + k] * (1 - fx) + rgba[b + k] * fx;
        const bottom = rgba[c + k] * (1 - fx) + rgba[d + k] * fx;
        out[(y * w + x) * 3 + k] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}

// (1, 3, h, w) float32 tensor: mean/std per channel in the model's order.
function normalize(rgb, w, h, cfg) {
  const data = new Float32Array(3 * h * w);
  const order = cfg.channel_order === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const src = order[c], mean = cfg.mean[c], std = cfg.std[c];
    for (let i = 0; i < h * w; i++) {
      data[c * h * w + i] = (rgb[i * 3 + src] - mean) / std;
    }
  }
  return new ort.Tensor('float32', data, [1, 3, h, w]);
}

// PyTorch's bilinear resize (align_corners=False) of (C, h, w) logits to
// (H, W), then the argmax over C: the mask, 1 where the tumor class wins.
function logitsToMask(logits, C, h, w, H, W, tumor) {
  const mask = new Uint8Array(H * W);
  const sx = w / W, sy = h / H;
  const x0 = new Int32Array(W), x1 = new Int32Array(W), lx = new Float32Array(W);
  for (let x = 0; x < W; x++) {
    const s = Math.max((x + 0.5) * sx - 0.5, 0);
    x0[x] = Math.floor(s); x1[x] = Math.min(x0[x] + 1, w - 1); lx[x] = s - x0[x];
  }
  const planes = [];
  for (let c = 0; c < C; c++) planes.push(logits.subarray(c * h * w, (c + 1) * h * w));
  const v = new Float32Array(C);
  for (let y = 0; y < H; y++) {
    const s = Math.max((y + 0.5) * sy - 0.5, 0);
    const y0 = Math.floor(s), y1 = Math.min(y0 + 1, h - 1), ly = s - y0;
    const r0 = y0 * w, r1 = y1 * w;
    for (let x = 0; x < W; x++) {
      const a = x0[x], b = x1[x], l = lx[x];
      let best = 0;
      for (let c = 0; c < C; c++) {
        const p = planes[c];
        const top = p[r0 + a] * (1 - l) + p[r0 + b] * l;
        const bot = p[r1 + a] * (1 - l) + p[r1 + b] * l;
        v[c] = top * (1 - ly) + bot * ly;
        if (v[c] > v[best]) best = c;  // the first of equal values, as argmax
      }
      mask[y * W + x] = best === tumor ? 1 : 0;
    }
  }
  return mask;
}

function softmax(z) {
  const m = Math.max(...z), e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function maskPNG(mask, W, H) {
  const canvas = document.createElement('canvas');
  canvas.width = W; canvas.height = H;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(W, H);
  for (let i = 0; i < W * H; i++) {
    const v = mask[i] ? 255 : 0;
    img.data[i * 4] = v; img.data[i * 4 + 1] = v; img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL('image/png');
}

function drawCard(name, bitmap, rgba, mask, record, ms) {
  const card = document.createElement('div');
  card.className = 'card';
  card.dataset.name = name;
  const W = bitmap.width, H = bitmap.height;
  const canvas = document.createElement('canvas');
  canvas.width = W; canvas.height = H;
  const ctx = canvas.getContext('2d');
  const img = new ImageData(new Uint8ClampedArray(rgba), W, H);
  for (let i = 0; i < W * H; i++) {
    if (mask[i]) {  // tumor in red, half opacity
      img.data[i * 4] = Math.round(0.5 * img.data[i * 4] + 127.5);
      img.data[i * 4 + 1] = Math.round(0.5 * img.data[i * 4 + 1]);
      img.data[i * 4 + 2] = Math.round(0.5 * img.data[i * 4 + 2]);
    }
  }
  ctx.putImageData(img, 0, 0);
  if (record.bbox) {
    const [x0, y0, x1, y1] = record.bbox;
    ctx.strokeStyle = '#ffd400';
    ctx.lineWidth = Math.max(1, Math.round(W / 320));
    ctx.strokeRect(x0, y0, x1 - x0 + 1, y1 - y0 + 1);
  }
  const p = record.class_probs[record.class_index];
  const text = document.createElement('p');
  text.className = 'summary';
  text.textContent = `${name}: class ${record.class_name} (p = ${p.toFixed(3)}), ` +
    `tumor ${record.tumor_area_px} px (${record.tumor_area_pct.toFixed(2)} %)` +
    (record.bbox ? `, box ${record.bbox.join(', ')}` : ', no tumor') +
    ` — ${ms.toFixed(1)} ms in this browser`;
  card.appendChild(canvas);
  card.appendChild(text);
  document.getElementById('results').prepend(card);
}

function errorCard(name, message) {
  const card = document.createElement('div');
  card.className = 'card error';
  card.dataset.name = name;
  card.textContent = `${name}: ${message}`;
  document.getElementById('results').prepend(card);
}

async function main() {
  const cfg = await (await fetch('page_config.json')).json();
  const variant = params.get('model') === 'int8' && cfg.models.int8 ? 'int8' : 'fp32';
  const isolated = window.crossOriginIsolated === true;
  const wanted = parseInt(params.get('threads') || '0', 10);
  ort.env.wasm.wasmPaths = new URL('ort/', window.location.href).href;
  ort.env.wasm.numThreads = isolated ?
    (wanted || Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  ort.env.wasm.simd = true;
  setStatus(`loading ${cfg.models[variant]} ...`);
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(cfg.models[variant], {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all'});
  const loadMs = performance.now() - t0;
  const [H, W] = cfg.input_size;
  const tumor = cfg.seg_classes.indexOf(cfg.tumor_class);
  const results = [];
  let queue = Promise.resolve();

  async function inferOne(file) {
    const name = file.name;
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (e) {
      const message = 'cannot read this file as an image (PNG or JPEG expected)';
      errorCard(name, message);
      const r = {path: name, error: message};
      results.push(r);
      return r;
    }
    const start = performance.now();
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const input = normalize(resizeRGB(rgba, bitmap.width, bitmap.height, W, H), W, H, cfg);
    const runStart = performance.now();
    const out = await session.run({[cfg.input_name]: input});
    const runMs = performance.now() - runStart;
    const preMs = runStart - start;
    const seg = out[cfg.output_names[0]], cls = out[cfg.output_names[1]];
    const [, C, h, w] = seg.dims;
    const mask = logitsToMask(seg.data, C, h, w, bitmap.height, bitmap.width, tumor);
    const probs = softmax(Array.from(cls.data));
    const classIndex = probs.indexOf(Math.max(...probs));
    // ImageBitmap's width/height are DOM getters: read them once, not per pixel
    const iw = bitmap.width, ih = bitmap.height;
    let area = 0, x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
    for (let y = 0; y < ih; y++) {
      for (let x = 0; x < iw; x++) {
        if (mask[y * iw + x]) {
          area++;
          if (x < x0) x0 = x; if (x > x1) x1 = x;
          if (y < y0) y0 = y; if (y > y1) y1 = y;
        }
      }
    }
    const ms = performance.now() - start;  // decoded image -> mask, box
    const record = {
      path: name,
      class_index: classIndex,
      class_name: cfg.cls_classes[classIndex] ?? String(classIndex),
      class_probs: probs,
      tumor_area_px: area,
      tumor_area_pct: 100 * area / mask.length,
      bbox: area ? [x0, y0, x1, y1] : null,
      pixel_spacing_mm: null,
      tumor_area_mm2: null,
    };
    drawCard(name, bitmap, rgba, mask, record, ms);
    const r = {record, latency_ms: ms, run_ms: runMs, pre_ms: preMs,
               post_ms: ms - preMs - runMs,
               mask_png: maskPNG(mask, bitmap.width, bitmap.height)};
    results.push(r);
    return r;
  }

  // one image at a time, in the order given
  function infer(file) {
    queue = queue.then(() => inferOne(file));
    return queue;
  }

  document.getElementById('files').addEventListener('change', (ev) => {
    for (const file of ev.target.files) infer(file);
    ev.target.value = '';
  });
  const drop = document.getElementById('drop');
  drop.addEventListener('dragover', (ev) => ev.preventDefault());
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    for (const file of ev.dataTransfer.files) infer(file);
  });

  window.mtnet = {infer, results, config: cfg, variant, loadMs,
                  threads: ort.env.wasm.numThreads, isolated};
  setStatus(`${cfg.checkpoint} (${variant}) loaded in ${loadMs.toFixed(0)} ms; ` +
            `${ort.env.wasm.numThreads} thread(s)` +
            (isolated ? '' : ' (served without cross-origin isolation)') +
            '. Images stay on this machine.');
  document.body.dataset.ready = '1';
}

main().catch((e) => {
  setStatus(`could not start: ${e.message || e}`);
  document.body.dataset.ready = 'error';
});
