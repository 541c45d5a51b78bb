#include <gtest/gtest.h>

#include "gateway/cursor.hpp"
