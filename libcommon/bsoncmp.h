/*
 * bsoncmp.h: BSON values compared exactly as MongoDB sorts them.
 *
 * Values of different types compare by type bracket (MinKey < undefined <
 * null < numbers < strings and symbols < objects < arrays < binData <
 * ObjectId < bool < date < timestamp < regex < DBPointer < code < code with
 * scope < MaxKey); numbers compare by value across int32, int64, double and
 * decimal128 (NaN below every number, -0 equal to 0); strings by bytes;
 * objects and arrays element by element (type bracket, then field name, then
 * value); binData by length, then subtype, then bytes.  mongo-hashdiff's
 * merge join and every split of a collection into _id ranges rely on this
 * being the server's order, so a range [a, b) holds exactly the _ids the
 * server would return between a and b.
 *
 * decimal128 against decimal128, int32 or int64 is exact; decimal128 against
 * a double goes through long double, which can call two values equal that
 * differ past the 19th significant digit.
 */
#ifndef MP_BSONCMP_H
#define MP_BSONCMP_H

#include <bson/bson.h>

/* The sort rank of a type's bracket (numbers share one, as do strings and
 * symbols); MinKey lowest, MaxKey highest. */
int bsoncmp_type_rank(bson_type_t t);

/* <0, 0, >0 as a sorts before, with, after b. */
int bsoncmp_value(const bson_value_t *a, const bson_value_t *b);

/* Compare two documents as the server compares embedded documents. */
int bsoncmp_doc(const bson_t *a, const bson_t *b);

/* Compare the values under two iterators (no copies are made). */
int bsoncmp_iter(const bson_iter_t *a, const bson_iter_t *b);

#endif
