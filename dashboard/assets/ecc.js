/* Language switch: a cookie read by the server, then a reload of the current page. */
window.eccToggleLanguage = function () {
  var zh = document.cookie.split('; ').indexOf('ecc_lang=zh') >= 0;
  document.cookie = 'ecc_lang=' + (zh ? 'en' : 'zh') + '; path=/; max-age=31536000; SameSite=Lax';
  window.location.reload();
};
