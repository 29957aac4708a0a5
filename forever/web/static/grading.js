// The grading station's keys, camera and uploads. Without this file the station is two plain forms.
//
// Keys are read from the page: a view (data-shot-key="K") takes its photo, from the camera when it runs, else
// from a file; an element with data-key="K" is clicked by K (a grade button submits its form, a link opens);
// R waits for a refusal reason's key (data-reason-key). Shortcuts never fire while typing in a field. A photo
// goes up with fetch and its answer (the views and the suggestion, as HTML) replaces them on the page.
(function () {
  "use strict";

  var photoForm = document.getElementById("photo-form");
  var fileInput = document.getElementById("photo-file");
  var status = document.getElementById("upload-status");
  var refuseForm = document.getElementById("refuse-form");
  var camera = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var startButton = document.getElementById("camera-start");
  var stopButton = document.getElementById("camera-stop");
  var CAMERA_KEY = "forever.station.camera";
  var stream = null;
  var refusing = false;
  var leaving = false;
  var uploading = 0;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function viewTitle(view) {
    var shot = document.getElementById("shot-" + view);
    return shot ? shot.getAttribute("data-title") : view;
  }

  function chosenView() {
    var checked = photoForm && photoForm.querySelector("input[name=view]:checked");
    return checked ? checked.value : "front";
  }

  function chooseView(view) {
    var radio = photoForm && photoForm.querySelector("input[name=view][value=" + view + "]");
    if (radio) {
      radio.checked = true;
    }
  }

  // --- uploads: the answer is the station's views and suggestion, put in place of the old ones -------------

  function replaceFrom(doc, id) {
    var fresh = doc.getElementById(id);
    var old = document.getElementById(id);
    if (fresh && old) {
      old.replaceWith(document.importNode(fresh, true));
    }
    return Boolean(fresh);
  }

  function upload(view, file) {
    if (!photoForm) {
      return;
    }
    var title = viewTitle(view);
    var limit = Number(photoForm.getAttribute("data-max-bytes"));
    if (limit && file.size > limit) {
      say("This photo is too large: at most " + Math.floor(limit / 1e6) + " MB.");
      return;
    }
    var body = new FormData();
    body.append("_csrf_token", photoForm.querySelector("input[name=_csrf_token]").value);
    body.append("view", view);
    body.append("photo", file, file.name || view + ".jpg");
    uploading += 1;
    say("Analysing the " + title + " photo…");
    fetch(photoForm.action, {method: "POST", body: body, credentials: "same-origin", headers: {"hx-request": "true"}})
      .then(function (response) {
        var redirect = response.headers.get("hx-redirect");
        if (redirect) {
          window.location.assign(redirect);
          return null;
        }
        return response.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          if (!replaceFrom(doc, "shots")) {
            var heading = doc.querySelector("h1");
            var why = heading ? heading.textContent : "error " + response.status;
            say("The photo was not taken (" + why + "). Reload the page and try again.");
            return;
          }
          replaceFrom(doc, "suggestion");
          replaceFrom(doc, "upload-problem");
          var problem = document.querySelector("#upload-problem .notice");
          var retake = document.querySelector('.retake[data-view="' + view + '"]');
          if (problem) {
            say(problem.textContent);
          } else if (retake) {
            say(retake.textContent.replace(/\s+/g, " ").trim());
          } else {
            say(title + " photo analysed.");
          }
        });
      })
      .catch(function () {
        say("The photo could not be sent: check the connection and take it again.");
      })
      .finally(function () {
        uploading -= 1;
      });
  }

  if (photoForm && fileInput) {
    photoForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (fileInput.files.length) {
        upload(chosenView(), fileInput.files[0]);
        fileInput.value = "";
      } else {
        say("Choose a photo first.");
      }
    });
    fileInput.addEventListener("change", function () {
      if (fileInput.files.length) {
        upload(chosenView(), fileInput.files[0]);
        fileInput.value = "";
      }
    });
  }

  // --- the station's camera -------------------------------------------------------------------------------

  function showCamera(running) {
    startButton.hidden = running;
    stopButton.hidden = !running;
    video.hidden = !running;
  }

  function startCamera() {
    var constraints = {audio: false, video: {width: {ideal: 4000}, height: {ideal: 3000}, facingMode: "environment"}};
    return navigator.mediaDevices.getUserMedia(constraints).then(function (opened) {
      stream = opened;
      video.srcObject = opened;
      window.localStorage.setItem(CAMERA_KEY, "on");
      showCamera(true);
      return video.play();
    }).then(function () {
      say("Camera ready: press a view's key to take its photo.");
    }).catch(function () {
      window.localStorage.removeItem(CAMERA_KEY);
      showCamera(false);
      say("The camera could not be opened: take the photos as files.");
    });
  }

  function stopCamera() {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
    }
    stream = null;
    video.srcObject = null;
    window.localStorage.removeItem(CAMERA_KEY);
    showCamera(false);
  }

  function capture(view) {
    if (!video.videoWidth) {
      say("The camera is not ready yet.");
      return;
    }
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      if (blob) {
        upload(view, new File([blob], view + ".jpg", {type: "image/jpeg"}));
      }
    }, "image/jpeg", 0.92);
  }

  if (camera && photoForm && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    camera.hidden = false;
    showCamera(false);
    startButton.addEventListener("click", startCamera);
    stopButton.addEventListener("click", stopCamera);
    if (window.localStorage.getItem(CAMERA_KEY) === "on") {
      startCamera();  // the station's camera stays on from one piece to the next
    }
  }

  function takePhoto(view) {
    chooseView(view);
    if (stream) {
      capture(view);
    } else if (fileInput) {
      fileInput.click();
    }
  }

  // --- keys -----------------------------------------------------------------------------------------------

  function setRefusing(on) {
    refusing = on;
    if (refuseForm) {
      refuseForm.classList.toggle("refuse--active", on);
      say(on ? "Refuse: press the reason's key (Enter: the reason ticked, Esc: cancel)." : "");
    }
  }

  function submitOnce(form, submitter) {
    if (leaving) {
      return;
    }
    leaving = true;
    form.requestSubmit(submitter);
  }

  var NOT_TYPED = ["radio", "checkbox", "file", "button", "submit", "reset"];

  function typing(target) {
    if (target.matches("input")) {
      return NOT_TYPED.indexOf(target.type) < 0;
    }
    return target.closest("textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("submit", function (event) {
    if (event.target.matches("#grade-form, #refuse-form")) {
      if (uploading > 0) {
        event.preventDefault();
        leaving = false;
        say("Wait for the photo being analysed, then decide.");
        return;
      }
      leaving = true;
    }
  });

  document.documentElement.classList.add("keys-on");  // the keys shown on the page now work
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(event.target)) {
      return;
    }
    var key = event.key.length === 1 ? event.key.toUpperCase() : event.key;
    if (refusing) {
      event.preventDefault();
      if (key === "Escape") {
        setRefusing(false);
        return;
      }
      var button = document.getElementById("refuse-button");
      if (key === "Enter") {
        if (refuseForm.querySelector("input[name=reason]:checked")) {
          submitOnce(refuseForm, button);
        }
        return;
      }
      var reason = refuseForm.querySelector('input[data-reason-key="' + key + '"]');
      if (reason) {
        reason.checked = true;
        submitOnce(refuseForm, button);
      }
      return;
    }
    if (key === "R" && refuseForm) {
      event.preventDefault();
      setRefusing(true);
      return;
    }
    var shot = document.querySelector('.shot[data-shot-key="' + CSS.escape(key) + '"]');
    if (shot && photoForm) {
      event.preventDefault();
      takePhoto(shot.getAttribute("data-view"));
      return;
    }
    var target = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (target) {
      event.preventDefault();
      if (target.form && target.type === "submit") {
        submitOnce(target.form, target);
      } else {
        target.click();
      }
    }
  });
})();
