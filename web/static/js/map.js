/*
 * The "map" fields of forms (templates/form_fields.html). The latitude and
 * longitude inputs post the answer and work alone; this script, loaded only
 * on pages with such a field, adds what fills them in:
 *
 *   - a Leaflet map on [data-map-canvas]: a click or a tap puts the marker
 *     there and fills the inputs, dragging the marker does too, and typing in
 *     the inputs moves the marker;
 *   - the "use my position" button, when the browser can tell the position.
 *
 * Everything it needs comes from data- attributes of the field's fieldset:
 * the inputs' ids, where to start (data-map-center, data-map-zoom), the
 * tiles (data-map-tiles, a URL template, and data-map-attribution, plain
 * text; without tiles the map is a plain background that still takes a
 * point) and the texts it announces, already translated.
 */
(function () {
  "use strict";

  // Italy, where a map with nothing else to go by starts.
  var ITALY = [[35.4, 6.6], [47.1, 18.6]];
  // The zoom at a point found without "x-zoom": a few streets.
  var STREETS = 16;

  function number(s) {
    s = String(s || "").trim();
    if (s.indexOf(",") >= 0 && s.indexOf(".") < 0) {
      s = s.replace(",", "."); // the server takes a decimal comma too
    }
    return s === "" ? NaN : Number(s);
  }

  // point is [lat, lon]; null when that is no point of the globe.
  function point(lat, lon) {
    if (!isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      return null;
    }
    return [lat, lon];
  }

  // A click on a copy of the world east or west of the first one is a
  // longitude past ±180: bring it back.
  function wrap(lon) {
    return lon >= -180 && lon <= 180 ? lon : ((lon + 180) % 360 + 360) % 360 - 180;
  }

  // A millionth of a degree is about 10 cm: finer is noise.
  function fixed(x) {
    return String(Math.round(x * 1e6) / 1e6);
  }

  function escapeHTML(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return "&#" + c.charCodeAt(0) + ";";
    });
  }

  function setup(box) {
    var d = box.dataset;
    var lat = document.getElementById(d.mapLat);
    var lon = document.getElementById(d.mapLon);
    if (!lat || !lon) {
      return;
    }
    var status = box.querySelector("[data-map-status]");
    var say = function (text) {
      if (status) {
        status.textContent = text || "";
      }
    };
    var marker = null;
    var map = null;

    // fill writes a point into the inputs, as the person would have typed
    // it, and returns it as written.
    function fill(a, o) {
      lat.value = fixed(a);
      lon.value = fixed(wrap(o));
      return [number(lat.value), number(lon.value)];
    }

    function place(ll) {
      if (!map) {
        return;
      }
      if (marker) {
        marker.setLatLng(ll);
        return;
      }
      marker = L.marker(ll, { draggable: true, keyboard: false, title: d.mapMarker || "", alt: d.mapMarker || "" });
      marker.on("dragend", function () {
        var ll = marker.getLatLng();
        marker.setLatLng(fill(ll.lat, ll.lng));
        say(d.mapPlaced);
      });
      marker.addTo(map);
    }

    var canvas = box.querySelector("[data-map-canvas]");
    if (canvas && window.L) {
      canvas.hidden = false;
      var hint = box.querySelector("[data-map-hint]");
      if (hint) {
        hint.hidden = false;
      }
      map = L.map(canvas, { minZoom: 2, maxZoom: 19, worldCopyJump: true });
      if (d.mapTiles) {
        L.tileLayer(d.mapTiles, { maxZoom: 19, attribution: escapeHTML(d.mapAttribution || "") }).addTo(map);
      }
      var typed = point(number(lat.value), number(lon.value));
      var center = String(d.mapCenter || "").split(",");
      var start = center.length === 2 ? point(number(center[0]), number(center[1])) : null;
      if (start) {
        map.setView(start, Number(d.mapZoom) || STREETS);
        if (typed && !map.getBounds().contains(typed)) {
          map.setView(typed, map.getZoom());
        }
      } else if (typed) {
        map.setView(typed, STREETS);
      } else {
        map.fitBounds(ITALY);
      }
      if (typed) {
        place(typed);
      }
      map.on("click", function (e) {
        place(fill(e.latlng.lat, e.latlng.lng));
        say(d.mapPlaced);
      });
      var follow = function () {
        var ll = point(number(lat.value), number(lon.value));
        if (ll) {
          place(ll);
          if (!map.getBounds().contains(ll)) {
            map.panTo(ll);
          }
        }
      };
      lat.addEventListener("change", follow);
      lon.addEventListener("change", follow);
    }

    var tools = box.querySelector("[data-map-tools]");
    var locate = box.querySelector("[data-map-locate]");
    if (tools && locate && navigator.geolocation) {
      tools.hidden = false;
      locate.addEventListener("click", function () {
        locate.disabled = true;
        say(d.mapLocating);
        navigator.geolocation.getCurrentPosition(function (pos) {
          locate.disabled = false;
          var ll = fill(pos.coords.latitude, pos.coords.longitude);
          place(ll);
          if (map) {
            map.setView(ll, Math.max(map.getZoom(), STREETS));
          }
          say(d.mapLocated);
        }, function (err) {
          locate.disabled = false;
          say(err.code === err.PERMISSION_DENIED ? d.mapDenied : d.mapUnavailable);
        }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
      });
    }
  }

  var boxes = document.querySelectorAll("[data-map]");
  for (var i = 0; i < boxes.length; i++) {
    setup(boxes[i]);
  }
})();
