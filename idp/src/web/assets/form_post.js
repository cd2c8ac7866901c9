// Submits the form_post response to the app as soon as the page is parsed.
document.getElementById("form_post").submit();
