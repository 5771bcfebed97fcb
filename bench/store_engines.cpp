// Engine pick for the durable store (docs/storage.md): append-with-fsync throughput
// with group commit (one sync per batch) and bytes on disk per event, for a raw
// append-only file, RocksDB, SQLite (WAL) and LMDB.
//   g++ -O2 -std=c++20 bench/store_engines.cpp -lrocksdb -lsqlite3 -llmdb -o /tmp/store_engines
//   /tmp/store_engines DIR
#include <fcntl.h>
#include <lmdb.h>
#include <rocksdb/db.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kEventBytes = 300;  // a typical small CloudEvent, serialized

std::uintmax_t dir_bytes(const fs::path& p) {
  std::uintmax_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(p))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

std::string key(std::uint64_t off) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i, off >>= 8) k[i] = static_cast<char>(off & 0xFF);
  return k;
}

void run(const char* name, const fs::path& dir, int batch, int total,
         const std::function<void(std::uint64_t first, int n, const std::string& v)>& write_batch) {
  std::string value(kEventBytes, 'x');
  auto t0 = Clock::now();
  for (std::uint64_t off = 1; off <= std::uint64_t(total); off += batch) write_batch(off, batch, value);
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%-8s batch %4d: %9.0f events/s  %6.0f syncs/s  %5.0f bytes/event\n", name, batch,
              total / s, total / batch / s, double(dir_bytes(dir)) / total);
}

int main(int argc, char** argv) {
  fs::path root = argc > 1 ? argv[1] : "/tmp/store-engines";
  for (int batch : {1, 16, 256}) {
    int total = batch == 1 ? 2000 : batch == 16 ? 20000 : 100000;
    {
      auto dir = root / "file";
      fs::remove_all(dir);
      fs::create_directories(dir);
      int fd = ::open((dir / "log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      std::string buf;
      run("file", dir, batch, total, [&](std::uint64_t, int n, const std::string& v) {
        buf.clear();
        for (int i = 0; i < n; ++i) buf.append(12, '\0').append(v);  // len + crc + offset header
        (void)!::write(fd, buf.data(), buf.size());
        ::fdatasync(fd);
      });
      ::close(fd);
    }
    {
      auto dir = root / "rocksdb";
      fs::remove_all(dir);
      rocksdb::Options o;
      o.create_if_missing = true;
      rocksdb::DB* db;
      rocksdb::DB::Open(o, dir.string(), &db);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      run("rocksdb", dir, batch, total, [&](std::uint64_t first, int n, const std::string& v) {
        rocksdb::WriteBatch b;
        for (int i = 0; i < n; ++i) b.Put(key(first + i), v);
        db->Write(wo, &b);
      });
      db->Flush({});
      run("rocksdb", dir, 1, 0, [](auto, auto, auto&) {});  // size after flush
      delete db;
    }
    {
      auto dir = root / "sqlite";
      fs::remove_all(dir);
      fs::create_directories(dir);
      sqlite3* db;
      sqlite3_open((dir / "db").c_str(), &db);
      sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                       "CREATE TABLE ev(off INTEGER PRIMARY KEY, v BLOB);", nullptr, nullptr, nullptr);
      sqlite3_stmt* st;
      sqlite3_prepare_v2(db, "INSERT INTO ev VALUES(?,?)", -1, &st, nullptr);
      run("sqlite", dir, batch, total, [&](std::uint64_t first, int n, const std::string& v) {
        sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        for (int i = 0; i < n; ++i) {
          sqlite3_bind_int64(st, 1, first + i);
          sqlite3_bind_blob(st, 2, v.data(), v.size(), SQLITE_STATIC);
          sqlite3_step(st);
          sqlite3_reset(st);
        }
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      });
      sqlite3_finalize(st);
      sqlite3_close(db);
    }
    {
      auto dir = root / "lmdb";
      fs::remove_all(dir);
      fs::create_directories(dir);
      MDB_env* env;
      mdb_env_create(&env);
      mdb_env_set_mapsize(env, std::size_t(4) << 30);
      mdb_env_open(env, dir.c_str(), 0, 0644);
      MDB_dbi dbi;
      {
        MDB_txn* t;
        mdb_txn_begin(env, nullptr, 0, &t);
        mdb_dbi_open(t, nullptr, 0, &dbi);
        mdb_txn_commit(t);
      }
      run("lmdb", dir, batch, total, [&](std::uint64_t first, int n, const std::string& v) {
        MDB_txn* t;
        mdb_txn_begin(env, nullptr, 0, &t);
        for (int i = 0; i < n; ++i) {
          auto k = key(first + i);
          MDB_val mk{k.size(), k.data()}, mv{v.size(), const_cast<char*>(v.data())};
          mdb_put(t, dbi, &mk, &mv, MDB_APPEND);
        }
        mdb_txn_commit(t);
      });
      mdb_env_close(env);
    }
  }
}
