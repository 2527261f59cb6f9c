-- wrk: POST /login with the demo user's correct password, as an HTML form would.
wrk.method = "POST"
wrk.body = "username=john&password=tracklist-demo-password"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
