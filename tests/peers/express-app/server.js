// A real express-session + connect-redis application, used as Gatehouse's upstream in integration tests.
//
// Environment: PORT (default 3000), REDIS_URL (default redis://127.0.0.1:6379/0), SESSION_SECRET (required; a
// comma-separated list rotates secrets the way express-session does: the first signs, any verifies),
// SESSION_PREFIX (default "sess:"), SESSION_TTL_SECONDS (cookie maxAge, default 86400).
//
//   POST /login   form or JSON {username, role}: stores {username, role} as req.session.user, answers JSON
//   GET  /whoami  the identity headers Gatehouse sent (x-user, x-user-roles) and the session's user
//   POST /logout  destroys the session (the Redis key is deleted)
//   GET  /healthz 200 once Redis is connected
'use strict';

const express = require('express');
const session = require('express-session');
const RedisStore = require('connect-redis').default;
const { createClient } = require('redis');

const port = Number(process.env.PORT || 3000);
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379/0';
const secrets = (process.env.SESSION_SECRET || '').split(',').filter((s) => s.length > 0);
const prefix = process.env.SESSION_PREFIX || 'sess:';
const ttlSeconds = Number(process.env.SESSION_TTL_SECONDS || 86400);

if (secrets.length === 0) {
  console.error('SESSION_SECRET is required');
  process.exit(2);
}

const redisClient = createClient({ url: redisUrl });
redisClient.on('error', (err) => console.error('redis:', err.message));

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));
app.use(
  session({
    store: new RedisStore({ client: redisClient, prefix, ttl: ttlSeconds }),
    secret: secrets,
    name: 'connect.sid',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: ttlSeconds * 1000 },
  }),
);

app.get('/healthz', (req, res) => {
  res.status(redisClient.isReady ? 200 : 503).json({ redis: redisClient.isReady });
});

app.post('/login', (req, res, next) => {
  const username = req.body && req.body.username;
  const role = (req.body && req.body.role) || 'user';
  if (typeof username !== 'string' || username.length === 0) {
    res.status(400).json({ error: 'username required' });
    return;
  }
  // A new session id on login, so that a session fixed before authentication is never promoted.
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.user = { username, role };
    req.session.save((saveErr) => {
      if (saveErr) return next(saveErr);
      res.json({ ok: true, user: req.session.user, sessionId: req.sessionID });
    });
  });
});

app.get('/whoami', (req, res) => {
  res.json({
    headers: {
      'x-user': req.get('x-user') ?? null,
      'x-user-roles': req.get('x-user-roles') ?? null,
    },
    session: req.session.user ?? null,
    sessionId: req.session.user ? req.sessionID : null,
  });
});

app.post('/logout', (req, res, next) => {
  req.session.destroy((err) => {
    if (err) return next(err);
    res.clearCookie('connect.sid', { path: '/' });
    res.json({ ok: true });
  });
});

app.use((err, req, res, next) => {
  console.error(err);
  if (res.headersSent) return next(err);
  res.status(500).json({ error: 'internal' });
});

redisClient
  .connect()
  .then(() => {
    const server = app.listen(port, '127.0.0.1', () => console.log(`express-app listening on 127.0.0.1:${port}`));
    const stop = () => {
      server.close();
      redisClient.quit().catch(() => {});
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  })
  .catch((err) => {
    console.error('cannot connect to redis:', err.message);
    process.exit(1);
  });
