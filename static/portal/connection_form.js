// Shows only the credential inputs the chosen vendor uses, and suggests its API URL.
(function () {
  "use strict";
  const fieldsByKind = JSON.parse(document.getElementById("vendor-credentials").textContent);
  const baseUrls = JSON.parse(document.getElementById("vendor-base-urls").textContent);
  const kind = document.getElementById("id_kind");
  const baseUrl = document.getElementById("id_base_url");
  if (!kind) return;
  const allNames = new Set(Object.values(fieldsByKind).flat());

  function update() {
    const wanted = new Set(fieldsByKind[kind.value] || []);
    allNames.forEach(function (name) {
      const row = document.querySelector(".form-row.field-" + name);
      if (row) row.hidden = kind.value !== "" && !wanted.has(name);
    });
    if (baseUrl && !baseUrl.value && baseUrls[kind.value]) baseUrl.placeholder = baseUrls[kind.value];
  }
  kind.addEventListener("change", update);
  update();
})();
