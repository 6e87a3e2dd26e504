/** Which store URLs and environments are accepted, and what a wrong one is told (no server needed). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openRemoteStore } from '../../../../src/engine/remote/remote-store';
import { s3Settings } from '../../../../src/engine/remote/s3-config';
import { parseStoreUrl } from '../../../../src/engine/remote/store-url';

describe('parseStoreUrl', () => {
  test.each([
    ['s3://bucket', { kind: 's3', bucket: 'bucket', prefix: '' }],
    ['s3://my.bucket-1/', { kind: 's3', bucket: 'my.bucket-1', prefix: '' }],
    ['s3://bucket/team/loram/', { kind: 's3', bucket: 'bucket', prefix: 'team/loram' }],
    ['/shared/loram/../store', { kind: 'folder', dir: path.resolve('/shared/store') }],
    ['file:///shared/store', { kind: 'folder', dir: path.resolve('/shared/store') }],
  ])('%s', (url, want) => {
    expect(parseStoreUrl(url)).toEqual(want);
  });

  test.each([
    ['s3://AKIAEXAMPLE:wJalr/XUtnFEMI@bucket/p', /may not hold credentials.*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \(or AWS_PROFILE\)/],
    ['s3://AKIAEXAMPLE@bucket', /may not hold credentials/],
    ['s3://localhost:9000/bucket', /names a bucket, not a host:port; set the endpoint in LORAM_S3_ENDPOINT/],
    ['s3://My_Bucket/p', /"My_Bucket" .* is not an S3 bucket name \(3 to 63 lowercase/],
    ['s3://', /"" .* is not an S3 bucket name/],
    ['s3://bucket/a//b', /the key prefix may hold only/],
    ['s3://bucket/a/../b', /the key prefix may hold only .*\(not "\.\."\)/],
    ['s3://bucket/p?versionId=1', /no query or fragment/],
    ['relative/dir', /"relative\/dir" is a relative path: expected s3:\/\/bucket\/prefix, an absolute folder path/],
    ['https://example.com/store', /unsupported artifact store "https:\/\/…": expected s3:\/\/bucket\/prefix/],
    ['redis://localhost:6379', /unsupported artifact store "redis:\/\/…"/],
    ['   ', /no artifact store given: expected s3:\/\/bucket\/prefix/],
  ])('%s is refused', (url, message) => {
    expect(() => parseStoreUrl(url)).toThrow(message);
  });

  test('the credentials are not repeated in the error', () => {
    expect(() => parseStoreUrl('s3://AKIAEXAMPLE:topsecret@bucket')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('topsecret') }));
  });
});

describe('s3Settings: only from the environment', () => {
  test('defaults: us-east-1, AWS endpoints, virtual-host style, the SDK default credential chain', () => {
    expect(s3Settings({})).toEqual({ region: 'us-east-1', forcePathStyle: false });
  });

  test('an S3-compatible service with keys', () => {
    const env = { LORAM_S3_ENDPOINT: 'http://127.0.0.1:9000', LORAM_S3_FORCE_PATH_STYLE: '1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't', AWS_REGION: 'eu-west-3', AWS_PROFILE: 'ignored' };
    expect(s3Settings(env)).toEqual({ region: 'eu-west-3', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials: { accessKeyId: 'k', secretAccessKey: 's', sessionToken: 't' } });
  });

  test('AWS_ENDPOINT_URL_S3, AWS_DEFAULT_REGION and a profile', () => {
    expect(s3Settings({ AWS_ENDPOINT_URL_S3: 'https://s3.example.com', AWS_DEFAULT_REGION: 'ap-south-1', AWS_PROFILE: 'lab' })).toEqual({
      region: 'ap-south-1',
      endpoint: 'https://s3.example.com',
      forcePathStyle: false,
      profile: 'lab',
    });
  });

  test.each([
    [{ AWS_ACCESS_KEY_ID: 'k' }, /AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not/],
    [{ AWS_SECRET_ACCESS_KEY: 's' }, /AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not/],
    [{ LORAM_S3_ENDPOINT: '127.0.0.1:9000' }, /LORAM_S3_ENDPOINT="127.0.0.1:9000" is not a URL: expected e.g. http:\/\/127.0.0.1:9000/],
    [{ LORAM_S3_ENDPOINT: 'localhost:9000' }, /LORAM_S3_ENDPOINT must be an http:\/\/ or https:\/\/ URL \(got localhost:\/\/…\)/],
    [{ LORAM_S3_ENDPOINT: 'http://key:secret@127.0.0.1:9000' }, /LORAM_S3_ENDPOINT may not hold credentials/],
    [{ LORAM_S3_FORCE_PATH_STYLE: 'yes' }, /LORAM_S3_FORCE_PATH_STYLE="yes": expected 1 or 0/],
  ])('%j is refused', (env, message) => {
    expect(() => s3Settings(env)).toThrow(message);
  });
});

describe('openRemoteStore: folders', () => {
  test('a folder that does not exist is not created (an unmounted share would become a local folder)', async () => {
    const missing = path.join(mkdtempSync(path.join(os.tmpdir(), 'loram-remote-')), 'not-mounted');
    await expect(openRemoteStore(missing)).rejects.toThrow(`the artifact store folder ${missing} does not exist (is the shared folder mounted`);
  });

  test('a file is not a store', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'loram-remote-')), 'f');
    writeFileSync(file, '');
    await expect(openRemoteStore(`file://${file}`)).rejects.toThrow(`the artifact store ${file} is not a folder`);
  });

  test('signatures are checked before they name anything', async () => {
    const store = await openRemoteStore(mkdtempSync(path.join(os.tmpdir(), 'loram-remote-')));
    await expect(store.has('../../etc')).rejects.toThrow('not an artifact signature: "../../etc"');
    await store.close();
  });
});
