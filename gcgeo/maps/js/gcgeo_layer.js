/* gcgeo map layers: packed features drawn on Leaflet's canvas renderer, level of detail for large layers.
 *
 * A layer holds its features packed (gcgeo/maps/_pack.py): integer coordinates, columnar values, a
 * palette. Features become Leaflet layers only when the layer is first switched on, and popups and
 * tooltips are built when first opened. A large layer ("detail": more features than a page can draw
 * at once) draws its features only from zoom `minZoom` on, and then only those in view (a grid index
 * over their extents); below that zoom it draws its overview instead (hexagons summarising points or
 * polygons, simplified merged lines), itself a small gcgeo layer.
 *
 * A large layer's data comes deflated and base-64 coded ({z, n, b}: a city's layers are a third of
 * their size so); it is inflated here (RFC 1951, synchronously, without the asynchronous and not
 * universal DecompressionStream) the first time the layer is drawn or read.
 */
(function () {
  'use strict';

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }

  var MERGED = 512;  // vertices per merged path (see _merged)

  var renderers = {};  // one canvas per pane (a page holds one map)
  function renderer(pane) {
    if (!renderers[pane]) renderers[pane] = L.canvas({pane: pane, padding: 0.2, tolerance: 3});
    return renderers[pane];
  }

  // [dx, dy, dx, dy, ...] from the layer's origin, the first pair absolute → LatLngs
  function ring(a, o, s) {
    var out = new Array(a.length / 2), x = o[0], y = o[1];
    for (var k = 0, j = 0; k < a.length; k += 2, j++) {
      x += a[k]; y += a[k + 1];
      out[j] = L.latLng(y / s, x / s);
    }
    return out;
  }

  // the i-th of fixed-width base-64 indexes {w: width, x: digits} (gcgeo/maps/_pack.py)
  var DIGIT = {};
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach(function (ch, k) {
    DIGIT[ch] = k;
  });
  function index(col, i) {
    var v = 0;
    for (var k = i * col.w; k < (i + 1) * col.w; k++) v = v * 64 + DIGIT[col.x.charAt(k)];
    return v;
  }

  // --- inflate (RFC 1951) ---------------------------------------------------------------------------
  var LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
    131, 163, 195, 227, 258];
  var LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
  var DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
  var DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
    13, 13];
  var CODE_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

  function corrupt(what) { return new Error('gcgeo: the layer data is damaged (' + what + ')'); }

  // A canonical Huffman code (code lengths per symbol) as a table indexed by the stream's next `bits`
  // bits, least significant first: symbol << 4 | code length, 0 where no code begins.
  function huffman(lengths) {
    var n = lengths.length, max = 0, count = new Int32Array(16), next = new Int32Array(16), i;
    for (i = 0; i < n; i++) { count[lengths[i]]++; if (lengths[i] > max) max = lengths[i]; }
    count[0] = 0;
    for (i = 1, next[0] = 0; i < 16; i++) next[i] = (next[i - 1] + count[i - 1]) << 1;
    for (i = 1; i <= max; i++) if (next[i] + count[i] > 1 << i) throw corrupt('over-subscribed code');
    var size = 1 << max, table = new Int32Array(size);
    for (i = 0; i < n; i++) {
      var len = lengths[i];
      if (!len) continue;
      var c = next[len]++, r = 0;
      for (var k = 0; k < len; k++) { r = (r << 1) | (c & 1); c >>= 1; }  // codes are sent first bit first
      for (var j = r; j < size; j += 1 << len) table[j] = (i << 4) | len;
    }
    return {table: table, bits: max};
  }

  var FIXED_LIT = (function () {
    var l = new Uint8Array(288);
    l.fill(8, 0, 144); l.fill(9, 144, 256); l.fill(7, 256, 280); l.fill(8, 280, 288);
    return huffman(l);
  })();
  var FIXED_DIST = huffman(new Uint8Array(30).fill(5));

  // the raw deflate stream `src` (Uint8Array) inflated into `size` bytes
  function inflate(src, size) {
    var out = new Uint8Array(size), o = 0, n = src.length, pos = 0, bb = 0, bc = 0, i, s, last, type;
    function need(k) {
      while (bc < k) {
        if (pos >= n + 4) throw corrupt('cut short');  // a few zero bytes past the end: a code may peek
        bb |= (pos < n ? src[pos] : 0) << bc; pos++; bc += 8;
      }
    }
    function bits(k) { need(k); var v = bb & ((1 << k) - 1); bb >>>= k; bc -= k; return v; }
    function symbol(h) {
      need(h.bits);
      var e = h.table[bb & ((1 << h.bits) - 1)];
      if (!e) throw corrupt('no such code');
      bb >>>= e & 15; bc -= e & 15;
      return e >> 4;
    }
    do {
      last = bits(1); type = bits(2);
      if (type === 0) {  // stored: from the next byte on, its length and that length's complement
        bb >>>= bc & 7; bc -= bc & 7; pos -= bc >> 3; bb = 0; bc = 0;
        if (pos + 4 > n) throw corrupt('cut short');
        var len = src[pos] | src[pos + 1] << 8, nlen = src[pos + 2] | src[pos + 3] << 8;
        pos += 4;
        if (len !== (~nlen & 0xffff)) throw corrupt('stored length');
        if (pos + len > n || o + len > size) throw corrupt('stored block');
        out.set(src.subarray(pos, pos + len), o); o += len; pos += len;
        continue;
      }
      var lit = FIXED_LIT, dist = FIXED_DIST;
      if (type === 2) {
        var nlit = bits(5) + 257, ndist = bits(5) + 1, ncode = bits(4) + 4, cl = new Uint8Array(19);
        for (i = 0; i < ncode; i++) cl[CODE_ORDER[i]] = bits(3);
        var lens = new Uint8Array(nlit + ndist), code = huffman(cl);
        for (i = 0; i < nlit + ndist;) {
          s = symbol(code);
          if (s < 16) { lens[i++] = s; continue; }
          var value = 0, times;
          if (s === 16) {
            if (!i) throw corrupt('repeat without a length');
            value = lens[i - 1]; times = 3 + bits(2);
          } else times = s === 17 ? 3 + bits(3) : 11 + bits(7);
          if (i + times > nlit + ndist) throw corrupt('too many lengths');
          while (times--) lens[i++] = value;
        }
        if (!lens[256]) throw corrupt('no end-of-block code');
        lit = huffman(lens.subarray(0, nlit)); dist = huffman(lens.subarray(nlit));
      } else if (type !== 1) throw corrupt('block type 3');
      for (;;) {
        s = symbol(lit);
        if (s < 256) {
          if (o >= size) throw corrupt('longer than said');
          out[o++] = s;
        } else if (s === 256) break;
        else {
          s -= 257;
          if (s >= 29) throw corrupt('length code');
          var length = LEN_BASE[s] + bits(LEN_EXTRA[s]), d = symbol(dist);
          if (d >= 30) throw corrupt('distance code');
          var back = DIST_BASE[d] + bits(DIST_EXTRA[d]);
          if (back > o) throw corrupt('distance before the start');
          if (o + length > size) throw corrupt('longer than said');
          for (var q = o - back, end = o + length; o < end;) out[o++] = out[q++];
        }
      }
    } while (!last);
    if (pos - (bc >> 3) > n) throw corrupt('cut short');
    if (o !== size) throw corrupt('shorter than said');
    return out;
  }

  // a layer's data from its deflated, base-64 coded form {z: text, b: bytes inflated}
  function unpack(packed) {
    var bin = atob(packed.z), src = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) src[i] = bin.charCodeAt(i);
    return JSON.parse(new TextDecoder().decode(inflate(src, packed.b)));
  }

  var GcgeoLayer = L.FeatureGroup.extend({
    initialize: function (pack, opts) {
      L.FeatureGroup.prototype.initialize.call(this, []);
      if (pack.z !== undefined) {  // deflated: inflated when first read (see `pack` below)
        this._deflated = pack;
        this.n = pack.n;
      } else {
        this._pack = pack;
        this.n = pack.k === 'point' ? pack.g.length / 2 : pack.g.length;
      }
      this.opts = opts;
      this.gcgeoFeatures = this.n;
      this.gcgeoDefault = opts.defaultOn;
      this._made = new Array(this.n);
      this._shown = null;  // indexes drawn (detail layers)
      this._overview = opts.overview ? new GcgeoLayer(opts.overview.pack, opts.overview.opts) : null;
      if (this._overview) this._overview.gcgeoOverviewOf = this;
    },

    value: function (f, i) {
      var col = this.pack.v[f];
      if (!col) return null;
      if (col.k !== undefined) return col.k;
      return col.d ? col.d[index(col, i)] : col[i];
    },

    color: function (i) {
      var c = this.pack.c;
      return this.pack.p[typeof c === 'number' ? c : index(c, i)];
    },

    table: function (i, n) {
      var rows = '', fields = this.opts.labels;
      for (var f = 0; f < fields.length && f < n; f++) {
        var v = this.value(f, i);
        if (v === null || v === undefined) continue;
        rows += '<tr><th>' + esc(fields[f]) + '</th><td>' + esc(v) + '</td></tr>';
      }
      return rows ? '<table class="gcgeo-tip">' + rows + '</table>' : '';
    },

    kind: function (i) {
      return this.pack.t ? {p: 'point', l: 'line', a: 'polygon'}[this.pack.t[i]] : this.pack.k;
    },

    latlngs: function (i) {
      var p = this.pack, o = p.o, s = p.s, g = p.g, k = this.kind(i);
      if (p.k === 'point') return L.latLng((o[1] + g[2 * i + 1]) / s, (o[0] + g[2 * i]) / s);
      if (k === 'point') return L.latLng((o[1] + g[i][1]) / s, (o[0] + g[i][0]) / s);
      if (k === 'line') return g[i].map(function (l) { return ring(l, o, s); });
      return g[i].map(function (poly) { return poly.map(function (r) { return ring(r, o, s); }); });
    },

    feature: function (i) {
      var l = this._made[i];
      if (l) return l;
      var p = this.pack, o = this.opts, c = this.color(i), r = renderer(o.pane), self = this, k = this.kind(i);
      if (k === 'point') {
        l = L.circleMarker(this.latlngs(i), {renderer: r, radius: o.radius, color: o.pointStroke, weight: 1,
                                             fillColor: c, fillOpacity: 0.9});
      } else {
        var style = {renderer: r, color: o.stroke || c, weight: o.weight, opacity: o.opacity, fillColor: c,
                     fillOpacity: o.fillOpacity, dashArray: o.dash, interactive: o.interactive !== false};
        l = k === 'line' ? L.polyline(this.latlngs(i), style) : L.polygon(this.latlngs(i), style);
      }
      l.gcgeoIndex = i;
      if (o.interactive !== false) {
        l.bindTooltip(function () { return self.table(i, o.tooltipFields) || esc(o.name); }, {sticky: true});
        l.bindPopup(function () { return self.table(i, o.labels.length) || esc(o.name); },
                    {maxWidth: 380, minWidth: 240, autoPanPadding: [20, 20]});
      }
      this._made[i] = l;
      return l;
    },

    onAdd: function (map) {
      this._mapRef = map;
      if (!this.opts.detail) {
        if (!this._built) {
          this._built = true;
          for (var i = 0; i < this.n; i++) this.addLayer(this.feature(i));
        }
        L.FeatureGroup.prototype.onAdd.call(this, map);
        return;
      }
      L.FeatureGroup.prototype.onAdd.call(this, map);
      map.on('moveend', this._sync, this);
      this._sync();
    },

    onRemove: function (map) {
      if (this.opts.detail) {
        map.off('moveend', this._sync, this);
        if (this._overview && map.hasLayer(this._overview)) map.removeLayer(this._overview);
      }
      L.FeatureGroup.prototype.onRemove.call(this, map);
    },

    // extents of every feature on a grid, built the first time the layer is drawn in detail
    _index: function () {
      if (this._grid) return this._grid;
      var p = this.pack, n = this.n, box = new Float64Array(4 * n), gx0 = Infinity, gy0 = Infinity,
        gx1 = -Infinity, gy1 = -Infinity, i, k;
      for (i = 0; i < n; i++) {
        var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
        var scan = function (a) {
          var x = 0, y = 0;
          for (var j = 0; j < a.length; j += 2) {
            x += a[j]; y += a[j + 1];
            if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
          }
        };
        var k = this.kind(i);
        if (p.k === 'point') { x0 = x1 = p.g[2 * i]; y0 = y1 = p.g[2 * i + 1]; }
        else if (k === 'point') { x0 = x1 = p.g[i][0]; y0 = y1 = p.g[i][1]; }
        else if (k === 'line') p.g[i].forEach(scan);
        else p.g[i].forEach(function (poly) { scan(poly[0]); });
        box[4 * i] = x0; box[4 * i + 1] = y0; box[4 * i + 2] = x1; box[4 * i + 3] = y1;
        gx0 = Math.min(gx0, x0); gy0 = Math.min(gy0, y0); gx1 = Math.max(gx1, x1); gy1 = Math.max(gy1, y1);
      }
      var side = Math.max((gx1 - gx0) / 200, (gy1 - gy0) / 200, 1), cells = {};
      for (i = 0; i < n; i++) {
        var cx0 = Math.floor((box[4 * i] - gx0) / side), cx1 = Math.floor((box[4 * i + 2] - gx0) / side),
          cy0 = Math.floor((box[4 * i + 1] - gy0) / side), cy1 = Math.floor((box[4 * i + 3] - gy0) / side);
        for (var cx = cx0; cx <= cx1; cx++) for (var cy = cy0; cy <= cy1; cy++) {
          k = cx + ',' + cy;
          (cells[k] = cells[k] || []).push(i);
        }
      }
      this._grid = {cells: cells, side: side, x0: gx0, y0: gy0};
      return this._grid;
    },

    // indexes of the features whose extents meet `bounds`
    within: function (bounds) {
      var p = this.pack, g = this._index(), s = p.s, seen = {}, out = [];
      var cx0 = Math.floor((bounds.getWest() * s - p.o[0] - g.x0) / g.side),
        cx1 = Math.floor((bounds.getEast() * s - p.o[0] - g.x0) / g.side),
        cy0 = Math.floor((bounds.getSouth() * s - p.o[1] - g.y0) / g.side),
        cy1 = Math.floor((bounds.getNorth() * s - p.o[1] - g.y0) / g.side);
      for (var cx = cx0; cx <= cx1; cx++) for (var cy = cy0; cy <= cy1; cy++) {
        var c = g.cells[cx + ',' + cy];
        if (!c) continue;
        for (var j = 0; j < c.length; j++) if (!seen[c[j]]) { seen[c[j]] = true; out.push(c[j]); }
      }
      return out;
    },

    // lines and polygons below minZoom: the features of a colour as a few non-interactive paths of about
    // MERGED vertices each (Chromium's canvas builds a path of n sub-paths in time growing as n²: the
    // 100k buildings of a city as one path took 30 s to draw, as paths of ~500 vertices 0.3 s)
    _merged: function () {
      var p = this.pack, o = this.opts, by = {}, i, c, self = this, group = L.featureGroup();
      for (i = 0; i < this.n; i++) {
        if (this.kind(i) !== p.k) continue;
        c = this.color(i);
        (by[c] = by[c] || []).push(i);
      }
      Object.keys(by).forEach(function (c) {
        var style = {renderer: renderer(o.pane), color: o.stroke || c, weight: o.weight,
                     opacity: o.opacity, fillColor: c, fillOpacity: o.fillOpacity, interactive: false};
        var parts = [], size = 0;
        var flush = function () {
          if (parts.length) group.addLayer(p.k === 'line' ? L.polyline(parts, style) : L.polygon(parts, style));
          parts = []; size = 0;
        };
        by[c].forEach(function (i) {
          self.latlngs(i).forEach(function (part) {
            parts.push(part);
            size += p.k === 'line' ? part.length : part.reduce(function (a, r) { return a + r.length; }, 0);
          });
          if (size >= MERGED) flush();
        });
        flush();
      });
      return group;
    },

    _sync: function () {
      var map = this._mapRef, self = this;
      if (!map) return;
      var detailed = map.getZoom() >= this.opts.minZoom;
      if (!this._overview && this.pack.k !== 'point' && !detailed) this._overview = this._merged();
      if (this._overview) {
        if (detailed && map.hasLayer(this._overview)) map.removeLayer(this._overview);
        if (!detailed && !map.hasLayer(this._overview)) map.addLayer(this._overview);
      }
      var want = detailed ? this.within(map.getBounds().pad(0.25)) : [], keep = {};
      want.forEach(function (i) { keep[i] = true; });
      (this._shown || []).forEach(function (i) { if (!keep[i]) self.removeLayer(self._made[i]); });
      want.forEach(function (i) { var l = self.feature(i); if (!self.hasLayer(l)) self.addLayer(l); });
      this._shown = want;
      this.fire('gcgeosync');
    },

    // for people and tests: the drawn feature of index i (drawn on demand when zoomed in)
    drawn: function () { return this.getLayers().length; }
  });

  // the layer's packed data, inflated the first time it is read
  Object.defineProperty(GcgeoLayer.prototype, 'pack', {get: function () {
    if (!this._pack) {
      this._pack = unpack(this._deflated);
      this._deflated = null;
    }
    return this._pack;
  }});

  GcgeoLayer.inflate = inflate;  // for tests: the page's inflate against zlib's deflate
  L.GcgeoLayer = GcgeoLayer;
  L.gcgeoLayer = function (pack, opts) { return new GcgeoLayer(pack, opts); };
})();
