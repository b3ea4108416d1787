// Where the e2e short links lead: a page that names the path it was asked for. (Playwright
// cannot intercept a navigation that arrives by redirect, and this machine has no internet.)
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 4320);
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><title>landed</title><h1>landed at ${req.url?.replace(/[<>&"]/g, '')}</h1>`);
}).listen(port, '127.0.0.1');
