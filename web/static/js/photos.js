/* Photos for a patient's question. Each photo chosen (or taken with the phone's camera) is
   shown as a thumbnail and goes at once to the console's tus relay (/uploads, which keeps the
   person's token on the server), with a progress bar; a dropped link is retried. A large photo
   is first made smaller (at most MAX_SIDE pixels a side, JPEG): a phone's 4 MB picture becomes
   some 300 KB, which a weak rural link sends in seconds instead of minutes. The form then
   sends the uploads' ids, not the files. Without this script the form posts the files whole. */
(function () {
  "use strict";
  var MAX_SIDE = 1600;
  var QUALITY = 0.85;
  var form = document.querySelector("form[data-photos]");
  if (!form || !window.tus || !window.tus.isSupported) {
    return;
  }
  var input = form.querySelector("input[type=file]");
  var list = document.getElementById("photo-previews");
  var wait = document.getElementById("photo-wait");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var chunkSize = parseInt(form.getAttribute("data-chunk-size"), 10);
  var pending = 0;

  // The files go by the relay, not with the form.
  input.removeAttribute("name");

  function text(name, values) {
    var template = form.getAttribute("data-text-" + name) || "";
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return values && key in values ? values[key] : whole;
    });
  }

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1);
  }

  // The photo at most MAX_SIDE a side; one already small enough (or unreadable) as it is.
  function smaller(file) {
    if (!window.createImageBitmap || !/^image\/(jpeg|png|webp)$/.test(file.type)) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size <= 1048576) {
        return file;
      }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(blob ? new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified }) : file);
        }, "image/jpeg", QUALITY);
      });
    }, function () {
      return file;
    });
  }

  function row(file) {
    var item = document.createElement("li");
    var thumb = document.createElement("img");
    var bar = document.createElement("progress");
    var state = document.createElement("span");
    var remove = document.createElement("button");
    var id = "photo-" + Math.random().toString(36).slice(2);
    thumb.alt = file.name;
    thumb.id = id;
    var reader = new FileReader();
    reader.onload = function () {
      thumb.src = reader.result;
    };
    reader.readAsDataURL(file);
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-labelledby", id);
    state.className = "upload-state";
    state.setAttribute("role", "status");
    remove.type = "button";
    remove.className = "secondary";
    remove.textContent = text("remove");
    remove.setAttribute("aria-describedby", id);
    item.appendChild(thumb);
    item.appendChild(bar);
    item.appendChild(state);
    item.appendChild(remove);
    list.appendChild(item);
    return { item: item, bar: bar, state: state, remove: remove };
  }

  function settled(view) {
    if (!view.settled) {
      view.settled = true;
      pending -= 1;
    }
    if (!pending) {
      wait.textContent = "";
    }
  }

  function send(chosen) {
    var view = row(chosen);
    pending += 1;
    smaller(chosen).then(function (file) {
      var upload = new window.tus.Upload(file, {
        endpoint: "/uploads",
        chunkSize: chunkSize,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
        headers: { "X-CSRF-Token": csrf },
        metadata: { filename: file.name, kind: "photo" },
        onProgress: function (sent, total) {
          view.bar.value = total ? Math.floor((sent / total) * 100) : 0;
          view.state.textContent = text("progress", { done: megabytes(sent), total: megabytes(total) });
        },
        onSuccess: function () {
          var field = document.createElement("input");
          field.type = "hidden";
          field.name = "upload";
          field.value = upload.url.split("/").pop();
          view.item.appendChild(field);
          view.bar.value = 100;
          view.state.textContent = text("done");
          view.item.classList.add("done");
          settled(view);
        },
        onError: function (error) {
          var response = error.originalResponse;
          var status = response ? response.getStatus() : 0;
          view.state.textContent = text("failed") + " " + (status || error.message);
          view.item.classList.add("failed");
          settled(view);
        }
      });
      view.remove.addEventListener("click", function () {
        upload.abort(true);
        view.item.remove();
        settled(view);
      });
      upload.start();
    });
  }

  input.addEventListener("change", function () {
    Array.prototype.forEach.call(input.files, send);
    input.value = "";
  });
  form.addEventListener("submit", function (event) {
    if (pending) {
      event.preventDefault();
      wait.textContent = text("wait");
    }
  });
})();
